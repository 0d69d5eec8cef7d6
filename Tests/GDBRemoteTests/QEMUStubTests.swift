// The client against a real QEMU gdbstub (TCG, stopped at reset). Expected values are the x86 reset
// state (Intel SDM vol. 3A, 9.1.1: CS selector F000, IP FFF0, CR0 60000010H) and the encodings of
// the instructions written into guest RAM (`inc ax` = 40, `nop` = 90, `jmp $` = EB FE).

import GDBRemote
import TestData
import Testing

@Suite(.serialized) struct QEMUStubTests {
  /// A QEMU at reset and a client connected to it (the caller kills QEMU in a defer, whatever happens).
  static func start() throws -> (GDBClient, GDBStubGuest) {
    let guest = try GDBStubGuest()
    do {
      return (try GDBClient(try GDBEndpoint(parsing: guest.address)), guest)
    } catch {
      guest.stop()
      throw error
    }
  }

  @Test func registerLayoutHasSegmentBasesAndControlRegisters() throws {
    let (client, guest) = try Self.start()
    defer {
      client.close()
      guest.stop()
    }
    let names = Set(client.layout.registers.map(\.name))
    for name in ["rax", "rcx", "rsp", "rip", "eflags", "cs", "fs_base", "gs_base", "cr0", "cr3", "cr4", "efer"] {
      #expect(names.contains(name), "\(name) missing from \(names.sorted())")
    }
    #expect(client.layout.architecture == "i386:x86-64")
    #expect(try client.register("rip").bitSize == 64)
    // GDB's numbering of the amd64 core registers: rax 0, rbx 1, rcx 2, … rip 16 (amd64-tdep.c order).
    #expect(client.layout.register(named: "rax")?.number == 0)
    #expect(client.layout.register(named: "rcx")?.number == 2)
    #expect(client.layout.register(named: "rip")?.number == 16)
    // No-ack mode only where offered (QEMU 7.2 does not offer it; later versions do).
    #expect(client.connection.acknowledging == (client.features["QStartNoAckMode"] != "+"))
    #expect(client.features["qXfer:features:read"] == "+")
  }

  @Test func resetStateFromRegisters() throws {
    let (client, guest) = try Self.start()
    defer {
      client.close()
      guest.stop()
    }
    let stop = try client.haltReason()
    #expect(stop.kind == .signal(5) || stop.kind == .signal(0) || stop.kind == .signal(2))
    #expect(try client.readRegister("rip") == 0xFFF0)
    #expect(try client.readRegister("cs") == 0xF000)
    #expect(try client.readRegister("cr0") == 0x6000_0010)
    let all = try client.readAllRegisters()
    let rip = try client.register("rip")
    #expect(all[rip.number].map(GDBClient.littleEndian) == 0xFFF0)
  }

  @Test func memoryWriteReadBreakpointAndStep() throws {
    let (client, guest) = try Self.start()
    defer {
      client.close()
      guest.stop()
    }
    // At 0x7000: nop; nop; inc ax; jmp $ (16-bit real mode, CS = 0).
    let code: [UInt8] = [0x90, 0x90, 0x40, 0xEB, 0xFE]
    try client.writeMemory(0x7000, code)
    #expect(try client.readMemory(0x7000, count: code.count) == code)
    // A read longer than one packet and with bytes that need escaping in binary form.
    let pattern = (0..<9000).map { UInt8(truncatingIfNeeded: $0 * 7 + 0x23) }
    try client.writeMemory(0x10_0000, pattern)
    #expect(try client.readMemory(0x10_0000, count: pattern.count) == pattern)

    try client.writeRegister("cs", 0)
    try client.writeRegister("rip", 0x7000)
    try client.writeRegister("rax", 0x41)
    try client.insertBreakpoint(.software, at: 0x7002)
    try client.resume()
    let stop = try #require(try client.waitForStop(timeout: 10))
    #expect(stop.kind == .signal(5))
    #expect(try client.readRegister("rip") == 0x7002)
    try client.removeBreakpoint(.software, at: 0x7002)
    let stepped = try client.step()
    #expect(stepped.kind == .signal(5))
    #expect(try client.readRegister("rip") == 0x7003)
    #expect(try client.readRegister("rax") & 0xFFFF == 0x42)
    // Guest memory was not patched by the breakpoint.
    #expect(try client.readMemory(0x7000, count: code.count) == code)
  }

  @Test func hardwareBreakpointAndInterrupt() throws {
    let (client, guest) = try Self.start()
    defer {
      client.close()
      guest.stop()
    }
    try client.writeMemory(0x7000, [0x90, 0x40, 0xEB, 0xFE])
    try client.writeRegister("cs", 0)
    try client.writeRegister("rip", 0x7000)
    try client.insertBreakpoint(.hardware, at: 0x7001)
    try client.resume()
    let hit = try #require(try client.waitForStop(timeout: 10))
    #expect(hit.kind == .signal(5))
    #expect(try client.readRegister("rip") == 0x7001)
    try client.removeBreakpoint(.hardware, at: 0x7001)
    // Running the `jmp $` loop: no stop within 0.3 s, then the interrupt stops it there.
    try client.resume()
    #expect(try client.waitForStop(timeout: 0.3) == nil)
    let stop = try client.interrupt()
    #expect(stop.kind == .signal(2))
    #expect(try client.readRegister("rip") == 0x7002)
  }

  @Test func unreadableMemoryIsANamedError() throws {
    let (client, guest) = try Self.start()
    defer {
      client.close()
      guest.stop()
    }
    // Paging is off at reset; an address past the 4 GiB the CPU can reach is refused by the stub.
    #expect {
      _ = try client.readMemory(0xFFFF_FFFF_FFFF_0000, count: 8)
    } throws: { error in
      guard case .errorReply(_, let command, _) = error as? GDBRemoteError else { return false }
      return command.hasPrefix("m")
    }
  }
}
