// `callscope trace` on a booted 32-bit guest: TraceX86BootGuest under QEMU (32-bit protected mode
// with PAE paging, FS based at the KPCR, the loop pushing each ApiNumber and calling the kernel's
// KeUserModeCallback). The log must be exactly the loop's sequence — with --kernel-base, with the
// kernel found from FS base → KPCR.IDT, and with --ram (the PAE walk through the RAM file) — and the
// guest must run on without the breakpoint afterwards.

import Foundation
import GDBRemote
import TestData
import Testing

#if canImport(Glibc)
  import Glibc
#endif

@Suite(.serialized) struct TraceX86BootTests {
  nonisolated(unsafe) static var cached: TraceX86BootGuest?
  static func boot() throws -> TraceX86BootGuest {
    if let cached { return cached }
    let built = try TraceX86BootGuest.build(try TraceX86Guest())
    cached = built
    return built
  }

  /// QEMU running the guest past its first round; the stub is free again.
  static func start(_ boot: TraceX86BootGuest, ramFile: String?) throws -> GDBStubGuest {
    var machine = "pc"
    var backend: [String] = []
    if let ramFile {
      FileManager.default.createFile(atPath: ramFile, contents: nil)
      let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: ramFile))
      try handle.truncate(atOffset: UInt64(TraceQEMU.memoryMiB) << 20)
      try handle.close()
      machine = "pc,memory-backend=ram"
      backend = ["-object", "memory-backend-file,id=ram,size=\(TraceQEMU.memoryMiB)M,mem-path=\(ramFile),share=on"]
    }
    let qemu = try GDBStubGuest(
      machine: machine, accelerator: TraceQEMU.accelerator(for: try TraceCLITests.guest()),
      memory: "\(TraceQEMU.memoryMiB)M", arguments: backend + boot.qemuArguments, stopped: false)
    do {
      let client = try GDBClient(try GDBEndpoint(parsing: qemu.address))
      defer { client.close() }
      for _ in 0..<100 {
        try client.resume()
        usleep(100_000)
        _ = try client.interrupt()
        if let rounds = try? client.readUnsigned(boot.roundsCounter, width: 4), rounds > 0 {
          try client.detach()
          return qemu
        }
      }
      throw CLI.Missing(description: "the x86 boot guest never reached its loop")
    } catch {
      qemu.stop()
      throw error
    }
  }

  @Test(arguments: [(true, false), (false, false), (true, true)])
  func bootedX86GuestLogsTheSequence(kernelBase: Bool, ram: Bool) throws {
    let boot = try Self.boot()
    let guest = boot.guest
    let file = guest.kernel.directory.appendingPathComponent("x86-\(getpid()).ram").path
    defer { try? FileManager.default.removeItem(atPath: file) }
    let qemu = try Self.start(boot, ramFile: ram ? file : nil)
    defer { qemu.stop() }
    let count = 2 * TraceX86Guest.sequence.count + 1
    let result = try CLI.run(
      ["trace", "--gdb", qemu.address, "--offline"]
        + (kernelBase ? ["--kernel-base", TraceGuest.hex(guest.kernel.pe.imageBase)] : [])
        + (ram ? ["--ram", file] : []) + [
          "--symbols", guest.kernel.directory.path, "--symbols", guest.user32.directory.path, "--count",
          String(count), "--format", "jsonl",
        ])
    #expect(result.status == 0, "\(result.stderr)")
    let events = try TraceCLITests.records(result.stdout).filter { $0["event"] as? String == "callback" }
    #expect(events.count == count)
    // The first hit may fall anywhere in a round; the rest follow the sequence.
    let start = (0..<TraceX86Guest.sequence.count).first { s in
      events.indices.allSatisfy { events[$0]["index"] as? Int == guest.expected(entry: s + $0).index }
        && events.indices.allSatisfy { events[$0]["tid"] as? Int == Int(guest.expected(entry: s + $0).tid) }
    }
    let s = try #require(start, "events \(events.map { $0["index"] ?? "?" }) are not the sequence")
    for (i, event) in events.enumerated() {
      let e = guest.expected(entry: s + i)
      #expect(event["name"] as? String == e.name, "\(i): \(event)")
      #expect(event["pid"] as? Int == Int(e.pid) && event["process"] as? String == e.process, "\(i): \(event)")
      #expect(event["caller"] as? String == e.caller, "\(i): \(event)")
    }
    // Resumed and unpatched: the loop counts on, no stop at the breakpoint, its bytes the image's.
    let client = try GDBClient(try GDBEndpoint(parsing: qemu.address))
    defer { client.close() }
    let before = try client.readUnsigned(boot.roundsCounter, width: 4)
    try client.resume()
    #expect(try client.waitForStop(timeout: 0.5) == nil, "the guest stopped by itself: a breakpoint was left")
    _ = try client.interrupt()
    #expect(try client.readUnsigned(boot.roundsCounter, width: 4) > before)
    #expect(try client.readMemory(guest.keUserModeCallback, count: 4) == guest.read(guest.keUserModeCallback, count: 4))
    try client.detach()
  }
}
