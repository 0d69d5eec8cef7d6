// The live view of `watch --format table`: off a terminal (pipes) neither stream holds an escape
// code, whatever the format; on a terminal (a pty from util-linux `script`) event lines scroll and
// one status line per tick is redrawn in place (CR, erase line), erased before each event line.

import Foundation
import TestData
import Testing

@Suite("watch live view")
struct WatchLiveViewTests {
  static let escape = "\u{1b}"

  @Test(arguments: ["table", "jsonl"])
  func noEscapeCodesOffATerminal(format: String) throws {
    let image = try TestData.decompressed("images/win10-19041-clean.raw.xz")
    let run = try TestData.run(
      try LiveCLI.binary(),
      ["watch", image, "--count", "2", "--interval", "10ms", "--baseline", "--format", format, "--offline"])
    #expect(run.status == 0, "\(run.stderr)")
    #expect(run.stdout.contains("added"))
    #expect(!run.stdout.contains(Self.escape))
    #expect(!run.stderr.contains(Self.escape))
    #expect(!run.stdout.contains("\r") && !run.stderr.contains("\r"))
  }

  @Test func statusLineOnATerminal() throws {
    let image = try TestData.decompressed("images/win10-19041-clean.raw.xz")
    let command = [
      try LiveCLI.binary(), "watch", image, "--count", "3", "--interval", "10ms", "--baseline", "--offline",
    ]
    // `script -q -e -c CMD /dev/null`: CMD on a pty (stdout and stderr both), its output on ours.
    let run = try TestData.run(
      try TestData.which("script"), ["-q", "-e", "-c", command.joined(separator: " "), "/dev/null"])
    #expect(run.status == 0, "\(run.stderr)")
    let erase = "\r" + Self.escape + "[2K"
    for tick in 1...3 { #expect(run.stdout.contains(erase + "tick \(tick) | "), "\(run.stdout.suffix(400))") }
    // The truth's 107 callbacks, as the status line counts them.
    let callbacks = (try LiveCLI.truth("win10-19041-clean")["callbacks"] as? [Any])?.count ?? 0
    #expect(run.stdout.contains(" | \(callbacks) callbacks | 15 processes | running"))
    // Event lines come whole, after the status line was erased: none holds a status.
    let lines = run.stdout.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" })
    let events = lines.filter { $0.contains("  added ") }
    #expect(events.count == callbacks)
    #expect(events.allSatisfy { !$0.contains("callbacks |") })
  }
}
