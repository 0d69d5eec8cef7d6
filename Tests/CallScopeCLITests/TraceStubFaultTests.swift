// `trace` through a proxy that spoils stop replies of the real stub mid-trace (TraceFaultyProxy). One
// bad checksum is what acknowledgements are for: `-`, QEMU sends the reply again, and the log is still
// exactly the guest's sequence. A checksum bad on every retransmission, and a stop reply cut short
// (with the breakpoint out for the step over it), must stop the trace with a message naming the
// fault and status 2, and leave the guest running without the breakpoint (the lost stop reply is
// made up for with `?`).

import Foundation
import TestData
import Testing

@Suite(.serialized) struct TraceStubFaultTests {
  /// Runs a trace through a proxy with `fault` (for at most 30 s: a fault never met ends with status 0).
  static func traceThrough(_ fault: TraceFaultyProxy.Fault, _ extra: [String] = ["--until", "30s"]) throws
    -> (result: TestData.ProcessResult, port: UInt16)
  {
    let guest = try TraceCLITests.guest()
    let qemu = try TraceCLITests.boot(guest)
    defer { qemu.stop() }
    let proxy = try TraceFaultyProxy(upstream: qemu.port, fault: fault)
    var arguments = TraceCLITests.arguments(guest, qemu, extra + ["--timeout", "2", "--format", "jsonl"])
    arguments[2] = "127.0.0.1:\(proxy.port)"
    let result = try CLI.run(arguments)
    proxy.finish()
    try TraceCLITests.checkResumedAndUnpatched(guest, qemu)
    return (result, proxy.port)
  }

  @Test func oneBadChecksumIsRetransmitted() throws {
    let guest = try TraceCLITests.guest()
    let count = TraceGuest.reportable.count + 2
    let (result, _) = try Self.traceThrough(.badChecksum(nth: 5, times: 1), ["--count", String(count)])
    #expect(result.status == 0, "\(result.stderr)")
    let events = try TraceCLITests.records(result.stdout).filter { $0["event"] as? String == "callback" }
    #expect(events.count == count)
    TraceCLITests.checkSequence(events, guest: guest, entries: TraceGuest.reportable)
  }

  @Test func badChecksumOnEveryRetransmissionIsStatusTwo() throws {
    // The first reply and its three retransmissions (GDBConnection.retries).
    let (result, port) = try Self.traceThrough(.badChecksum(nth: 5, times: 4))
    #expect(result.status == 2)
    #expect(
      result.stderr.contains("trace stopped: GDB stub 127.0.0.1:\(port): bad checksum on packet `T05"),
      "\(result.stderr)")
    #expect(result.stderr.contains("breakpoint removed, guest resumed"), "\(result.stderr)")
  }

  @Test func stopReplyCutShortMidTraceIsStatusTwo() throws {
    // QEMU answers `?` with T05 and does not step over an inserted breakpoint, so the stops go: `?`,
    // hit, the step tried with the breakpoint in, then per hit a stop and a step with it out: the
    // 6th is the second hit's step.
    let (result, port) = try Self.traceThrough(.cutShort(nth: 6))
    #expect(result.status == 2)
    #expect(
      result.stderr.contains("trace stopped: GDB stub 127.0.0.1:\(port): the reply to `c` was cut short"),
      "\(result.stderr)")
    #expect(result.stderr.contains("breakpoint removed, guest resumed"), "\(result.stderr)")
  }
}
