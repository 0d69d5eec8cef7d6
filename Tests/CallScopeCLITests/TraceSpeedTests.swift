// The cost of `trace` to the guest, measured on the boot guest under QEMU (TraceQEMU: KVM when
// usable, else TCG): the loop's call rate running free (its round counter over wall time) against the
// rate while traced (hits over the trace's own duration) — every hit reported, through the stub and
// with --ram, and every hit filtered out — and against the protocol's floor for a stop, driven by the
// GDB client directly. The numbers are printed (and recorded in docs/PERFORMANCE.md); what is
// asserted is that the trace saw every call the guest made (hits match the guest's own round
// counter), which a lost or phantom stop would break, and the packets a filtered-out stop costs.

import Foundation
import GDBRemote
import TestData
import Testing

#if canImport(Glibc)
  import Glibc
#endif

@Suite(.serialized) struct TraceSpeedTests {
  /// Calls per second of the free-running loop over `seconds` of wall time.
  static func freeRate(_ guest: TraceGuest, _ qemu: GDBStubGuest, seconds: Double) throws -> Double {
    let client = try GDBClient(try GDBEndpoint(parsing: qemu.address))
    defer { client.close() }
    let before = try client.readUnsigned(guest.roundsCounter, width: 8)
    let start = Date()
    try client.resume()
    usleep(UInt32(seconds * 1_000_000))
    _ = try client.interrupt()
    let elapsed = Date().timeIntervalSince(start)
    let after = try client.readUnsigned(guest.roundsCounter, width: 8)
    try client.detach()
    return Double(after - before) * Double(TraceGuest.sequence.count) / elapsed
  }

  /// Runs a trace for `seconds` with `extra` options: (hits, seconds, rounds the guest counted meanwhile).
  static func traced(_ guest: TraceGuest, _ qemu: GDBStubGuest, seconds: Int, _ extra: [String]) throws
    -> Run
  {
    // The probe leaves the guest stopped (closing without detaching), so the rounds counted are the
    // trace's own plus the few after it detaches and before the second probe stops the guest again.
    let probe = try GDBClient(try GDBEndpoint(parsing: qemu.address))
    let before = try probe.readUnsigned(guest.roundsCounter, width: 8)
    probe.close()
    // CALLSCOPE_TRACE_BINARY: measure another build (e.g. .build/release/callscope).
    let binary = try ProcessInfo.processInfo.environment["CALLSCOPE_TRACE_BINARY"] ?? CLI.binary()
    let result = try TestData.run(
      binary, TraceCLITests.arguments(guest, qemu, ["--until", "\(seconds)s", "--format", "jsonl"] + extra))
    let probeAfter = try GDBClient(try GDBEndpoint(parsing: qemu.address))
    defer { probeAfter.close() }
    let after = try probeAfter.readUnsigned(guest.roundsCounter, width: 8)
    try probeAfter.detach()
    guard result.status == 0, let last = try TraceCLITests.records(result.stdout).last,
      let hits = last["hits"] as? Int, let reported = last["reported"] as? Int,
      let unreadable = last["unreadable"] as? Int, let packets = last["packets"] as? Int,
      let elapsed = (last["seconds"] as? String).flatMap(Double.init)
    else { throw CLI.Missing(description: "trace failed: \(result.stderr)") }
    return Run(
      hits: hits, reported: reported, unreadable: unreadable, packets: packets, seconds: elapsed,
      rounds: after - before)
  }

  /// One traced run's totals.
  struct Run {
    var hits: Int
    var reported: Int
    var unreadable: Int
    /// Packets sent from the first hit to the last.
    var packets: Int
    var seconds: Double
    var rounds: UInt64
    /// Packets per hit in the steady state.
    var packetsPerHit: Double { Double(packets) / Double(max(hits - 1, 1)) }
  }

  /// The protocol's floor for a filtered-out stop, driven by the GDB client directly for `seconds`:
  /// the stop, one `p` (CR3, what the filter needs), the `s` over the breakpoint, the `c`. Hits/s.
  static func floorRate(_ guest: TraceGuest, _ qemu: GDBStubGuest, seconds: Double, readCR3: Bool) throws -> Double {
    let client = try GDBClient(try GDBEndpoint(parsing: qemu.address))
    defer { client.close() }
    try client.insertBreakpoint(.software, at: guest.keUserModeCallback)
    var hits = 0
    let start = Date()
    while Date().timeIntervalSince(start) < seconds {
      try client.resume()
      guard try client.waitForStop(timeout: 5) != nil else { throw CLI.Missing(description: "no stop") }
      hits += 1
      if readCR3 { _ = try client.readRegister("cr3") }
      _ = try client.step()
    }
    let elapsed = Date().timeIntervalSince(start)
    try client.removeBreakpoint(.software, at: guest.keUserModeCallback)
    try client.detach()
    return Double(hits) / elapsed
  }

  /// One traced run's rate and the stop time it adds per hit against the free rate.
  static func perHit(_ run: Run, free: Double) -> (rate: Double, ms: Double) {
    perHit(rate: Double(run.hits) / run.seconds, free: free)
  }

  static func perHit(rate: Double, free: Double) -> (rate: Double, ms: Double) { (rate, (1 / rate - 1 / free) * 1000) }

  @Test func addedStopTimePerHit() throws {
    let guest = try TraceCLITests.guest()
    let ram = guest.directory.appendingPathComponent("speed-\(getpid()).ram").path
    defer { try? FileManager.default.removeItem(atPath: ram) }
    let qemu = try TraceCLITests.boot(guest, ramFile: ram)
    defer { qemu.stop() }
    let free = try Self.freeRate(guest, qemu, seconds: 3)
    let all = try Self.traced(guest, qemu, seconds: 5, [])
    let allRAM = try Self.traced(guest, qemu, seconds: 5, ["--ram", ram])
    let filtered = try Self.traced(guest, qemu, seconds: 5, ["--process", "nosuch.exe"])
    let bare = Self.perHit(rate: try Self.floorRate(guest, qemu, seconds: 3, readCR3: false), free: free)
    let withCR3 = Self.perHit(rate: try Self.floorRate(guest, qemu, seconds: 3, readCR3: true), free: free)

    // No phantom hits: the guest made at least as many calls as the trace counted (the counter moves
    // once per round of the sequence; the guest also runs freely between the trace's detach and the second
    // probe, so there is no useful upper bound here — TraceCLITests checks that no call is missed).
    let calls = TraceGuest.sequence.count
    for run in [all, allRAM] {
      #expect(run.reported + run.unreadable == run.hits)
      #expect(UInt64(run.hits / calls) <= run.rounds)
    }
    #expect(filtered.reported == 0)
    // A filtered-out stop of a known process: `p` (CR3), `s`, `c` — nothing else.
    #expect(filtered.packetsPerHit < 3.1, "\(filtered.packets) packets for \(filtered.hits) filtered hits")
    #expect(UInt64(filtered.hits / calls) <= filtered.rounds)

    let (stub, viaRAM, skipped) = (
      Self.perHit(all, free: free), Self.perHit(allRAM, free: free), Self.perHit(filtered, free: free)
    )
    let line = String(
      format:
        "trace speed (%@): free %.0f calls/s; traced %.0f hits/s (%.3f ms added per hit, slowdown ×%.0f); "
        + "traced --ram %.0f hits/s (%.3f ms added per hit, slowdown ×%.0f; ×%.2f the stub's per-hit time); "
        + "filtered-out %.0f hits/s (%.3f ms added per hit, slowdown ×%.0f; %.2f packets per hit); "
        + "floor: stop+s %.3f ms, stop+p+s %.3f ms (filtered-out ×%.2f the floor); packets per reported hit %.2f "
        + "(--ram %.2f)",
      qemu.accelerator, free, stub.rate, stub.ms, free / stub.rate, viaRAM.rate, viaRAM.ms, free / viaRAM.rate,
      viaRAM.ms / stub.ms, skipped.rate, skipped.ms, free / skipped.rate, filtered.packetsPerHit, bare.ms, withCR3.ms,
      skipped.ms / withCR3.ms, all.packetsPerHit, allRAM.packetsPerHit)
    print(line)
    #expect(all.hits > 0 && allRAM.hits > 0 && filtered.hits > 0, "\(line)")
  }
}
