// The boot guest itself, checked through QEMU's gdbstub before `trace` is run on it: it reaches its
// loop in long mode on the image's page tables, GS base is the KPCR, and every hit of the
// KeUserModeCallback breakpoint has the sequence's ApiNumber in RCX.

import Foundation
import GDBRemote
import TestData
import Testing

@Suite(.serialized) struct TraceGuestTests {
  @Test func guestRunsTheSequence() throws {
    let guest = try TraceGuest.build()
    let qemu = try TraceQEMU.start(guest)
    defer { qemu.stop() }
    let client = try GDBClient(try GDBEndpoint(parsing: qemu.address))
    defer { client.close() }
    // Let it boot: poll until the loop has counted rounds.
    var rounds: UInt64 = 0
    for _ in 0..<100 {
      try client.resume()
      usleep(100_000)
      _ = try client.interrupt()
      if let value = try? client.readUnsigned(guest.roundsCounter, width: 8), value > 0 {
        rounds = value
        break
      }
    }
    #expect(rounds > 0, "the guest never reached its loop")
    #expect(try client.readRegister("cr3") & ~0xFFF != 0)
    #expect(try client.readRegister("efer") & 0x500 == 0x500)  // LME | LMA
    try client.insertBreakpoint(.software, at: guest.keUserModeCallback)
    var seen: [UInt64] = []
    for _ in 0..<(2 * TraceGuest.sequence.count) {
      try client.resume()
      let stop = try #require(try client.waitForStop(timeout: 10))
      #expect(stop.kind == .signal(5))
      #expect(try client.readRegister("rip") == guest.keUserModeCallback)
      seen.append(try client.readRegister("rcx"))
      try client.removeBreakpoint(.software, at: guest.keUserModeCallback)
      _ = try client.step()
      try client.insertBreakpoint(.software, at: guest.keUserModeCallback)
    }
    try client.removeBreakpoint(.software, at: guest.keUserModeCallback)
    let apis = TraceGuest.sequence.map { UInt64($0.api) }
    // The first hit may be anywhere in the round; the rest follow the sequence cyclically.
    let aligned = (0..<apis.count).contains { start in
      seen.indices.allSatisfy { seen[$0] == apis[(start + $0) % apis.count] }
    }
    #expect(aligned, "RCX at the hits \(seen) is not the sequence \(apis) from some point")
    try client.detach()
  }
}
