// A progress bar on stderr, shown only when stderr is a terminal: share done, bytes and throughput.

import AddressSpace

enum Progress {
  /// A progress callback for long scans (`done` and `total` in bytes), or nil when stderr is not a
  /// terminal.
  static func bar(label: String) -> (@Sendable (UInt64, UInt64) -> Void)? {
    guard Terminal.standardError.isTerminal else { return nil }
    let state = BarState(label: label)
    return { done, total in state.update(done: done, total: total) }
  }
}

/// What the bar last showed, and when the scan started.
private final class BarState: @unchecked Sendable {
  // @unchecked: the mutable members are only touched under `lock`.
  private let lock = Lock()
  private let label: String
  private let start = ContinuousClock.now
  private var lastShown: ContinuousClock.Instant?
  private var finished = false

  init(label: String) { self.label = label }

  func update(done: UInt64, total: UInt64) {
    lock.withLock {
      guard total > 0, !finished else { return }
      let now = ContinuousClock.now
      let last = done >= total
      // At most ten redraws a second, and always the final one.
      if !last, let lastShown, now - lastShown < .milliseconds(100) { return }
      lastShown = now
      finished = last
      let percent = Int(min(100, Double(done) * 100 / Double(total)))
      let filled = percent / 5
      let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: 20 - filled)
      let elapsed = now - start
      let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
      let rate = seconds > 0 ? Double(done) / seconds / 1e9 : 0
      Terminal.standardError.write(
        "\r\(label) [\(bar)] \(percent)% \(Self.gigabytes(done))/\(Self.gigabytes(total)) GB \(Self.fixed(rate)) GB/s"
          + (last ? "\n" : ""))
    }
  }

  private static func gigabytes(_ bytes: UInt64) -> String { fixed(Double(bytes) / 1e9) }

  /// `value` with two decimals.
  private static func fixed(_ value: Double) -> String {
    let hundredths = Int((value * 100).rounded())
    let fraction = hundredths % 100
    return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
  }
}
