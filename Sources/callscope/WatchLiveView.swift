// The live view of `watch --format table` on a terminal: events keep scrolling as lines, and one
// status line (tick, tick time, callbacks, processes, paused) is redrawn in place on stderr below
// them when stderr is a terminal too. Each write of events first erases the status line, so event
// lines never mix with it. Off a terminal nothing here writes, so the output holds no escape codes
// (and there is no colour: the event name column is enough to tell events apart).

import Reports

/// What the live view shows, and whether it is shown.
struct WatchLiveView {
  /// Whether the status line is drawn (stdout and stderr are terminals, table format).
  let showsStatus: Bool
  private let status = Terminal.standardError

  /// Carriage return, then ECMA-48 EL (erase in line, whole line).
  static let eraseLine = "\r\u{1b}[2K"

  init(format: WatchFormat) {
    showsStatus = format == .table && Terminal.standardOutput.isTerminal && Terminal.standardError.isTerminal
  }

  /// Before anything is written to stdout or stderr: the status line goes away.
  func clear() {
    if showsStatus { status.write(Self.eraseLine) }
  }

  /// After a tick: the status line drawn again.
  func redraw(tick: Int, report: WatchEventReport.Tick, callbacks: Int?, processes: Int?) {
    guard showsStatus else { return }
    status.write(
      Self.eraseLine + Self.statusText(tick: tick, report: report, callbacks: callbacks, processes: processes))
  }

  /// At the end: the last status stays, and the shell's prompt starts on a line of its own.
  func finish() {
    if showsStatus { status.write("\n") }
  }

  /// `tick 12 | 14.2 ms | 107 callbacks | 15 processes | running` (`paused 3.1 ms`, `smeared`).
  static func statusText(tick: Int, report: WatchEventReport.Tick, callbacks: Int?, processes: Int?) -> String {
    var parts = ["tick \(tick)", "\(milliseconds(report.tickMs)) ms"]
    parts.append(callbacks.map { "\($0) callbacks" } ?? "callbacks ?")
    parts.append(processes.map { "\($0) processes" } ?? "processes ?")
    if report.smeared { parts.append("smeared") }
    parts.append(report.pauseMs.map { "paused \(milliseconds($0)) ms" } ?? "running")
    return parts.joined(separator: " | ")
  }

  /// One decimal.
  static func milliseconds(_ ms: Double) -> String {
    guard ms.isFinite, ms >= 0, ms < 1e9 else { return "?" }
    let tenths = Int((ms * 10).rounded())  // in range: checked above
    return "\(tenths / 10).\(tenths % 10)"
  }
}
