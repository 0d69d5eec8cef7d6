// A progress bar on stderr, shown only when stderr is a terminal.

enum Progress {
  /// A progress callback for long scans, or nil when stderr is not a terminal.
  static func bar(label: String) -> ((UInt64, UInt64) -> Void)? {
    guard Terminal.standardError.isTerminal else { return nil }
    var lastPercent = -1
    return { done, total in
      guard total > 0 else { return }
      let percent = Int(min(100, done &* 100 / total))
      guard percent != lastPercent else { return }
      lastPercent = percent
      let filled = percent / 5
      let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: 20 - filled)
      Terminal.standardError.write("\r\(label) [\(bar)] \(percent)%" + (percent == 100 ? "\n" : ""))
    }
  }
}
