// `watch` must not grow over many ticks (issue 15: RSS at the start and the end of 10 000 ticks,
// scripts/bench watch-rss). This is the suite-sized version: 500 ticks at a 1 ms interval on the
// clean reference image, VmRSS (/proc/PID/status) after tick 50 (profile, symbolizers and the first
// tick's buffers in place) and after tick 500.

import Foundation
import TestData
import Testing

#if canImport(Glibc)
  import Glibc
#endif

@Suite("watch memory over many ticks")
struct WatchMemoryTests {
  /// VmRSS of `pid` in KiB.
  static func residentKiB(_ pid: Int32) throws -> Int {
    let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
    guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
      let kib = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) })
    else { throw TestDataError.tool("no VmRSS for \(pid)") }
    return kib
  }

  /// Growth from tick 50 to tick 500 under 1 MiB. Measured (debug build, 2026-12-04, four runs):
  /// +0, +0, +0 and −120 KiB; a leak of the smallest thing a tick holds, one 4 KiB page copy per
  /// tick, would be +1 800 KiB over these 450 ticks.
  @Test func residentSizeDoesNotGrow() throws {
    let image = try TestData.decompressed("images/win10-19041-clean.raw.xz")
    let watch = try WatchProcess(arguments: [
      image, "--interval", "1ms", "--until", "600s", "--format", "jsonl", "--offline",
    ])
    defer { _ = watch.stop(signal: SIGKILL, seconds: 5) }
    let pid = watch.process.processIdentifier
    #expect(watch.wait(seconds: 120) { $0.count { $0["event"] as? String == "tick" } >= 50 }, "\(watch.stderr)")
    let start = try Self.residentKiB(pid)
    #expect(watch.wait(seconds: 600) { $0.count { $0["event"] as? String == "tick" } >= 500 }, "\(watch.stderr)")
    let end = try Self.residentKiB(pid)
    #expect(watch.stop(signal: SIGTERM) == 0)
    #expect(end - start < 1024, "VmRSS \(start) KiB at tick 50, \(end) KiB at tick 500")
    print("watch VmRSS: \(start) KiB at tick 50, \(end) KiB at tick 500 (\(end - start) KiB)")
  }
}
