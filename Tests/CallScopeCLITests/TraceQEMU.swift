// How the trace tests run QEMU on the boot guest: with the fastest usable accelerator (KVM when
// /dev/kvm opens and guest debugging works under it, else TCG; printed once, so the test log says which ran), optionally with the
// guest's RAM in a memory-backend file shared with the host (what `trace --ram` reads), and past
// its boot (the loop has counted a round) before a test attaches.

import Foundation
import GDBRemote
import TestData

/// QEMU launches of the boot guest.
enum TraceQEMU {
  /// The accelerator chosen (with why KVM was not, when it was not), once per test process.
  nonisolated(unsafe) private static var chosen: String?
  /// Serialises the choice (suites run in parallel).
  private static let choosing = NSLock()

  /// `kvm` when /dev/kvm opens and a probe under KVM boots the guest and stops at the breakpoint
  /// with SIGTRAP (some hosts offer a /dev/kvm whose guest debugging ends in an internal error),
  /// else `tcg`; printed once.
  static func accelerator(for guest: TraceGuest) -> String {
    choosing.lock()
    defer { choosing.unlock() }
    if let chosen { return chosen }
    var result = "tcg"
    if GDBStubGuest.fastestAccelerator() == "kvm" {
      do {
        try probe(guest)
        result = "kvm"
        print("trace tests: QEMU accelerator kvm")
      } catch {
        print("trace tests: QEMU accelerator tcg (/dev/kvm opens, but \(error))")
      }
    } else {
      print("trace tests: QEMU accelerator tcg (/dev/kvm cannot be opened)")
    }
    chosen = result
    return result
  }

  /// Boots the guest under KVM and stops at KeUserModeCallback once; throws saying what failed.
  static func probe(_ guest: TraceGuest) throws {
    let qemu = try GDBStubGuest(
      machine: "pc", accelerator: "kvm", memory: "\(memoryMiB)M", arguments: guest.qemuArguments, stopped: false)
    defer { qemu.stop() }
    let client = try GDBClient(try GDBEndpoint(parsing: qemu.address))
    defer { client.close() }
    try waitForLoop(guest, client)
    try client.insertBreakpoint(.software, at: guest.keUserModeCallback)
    try client.resume()
    guard let stop = try client.waitForStop(timeout: 5) else { throw CLI.Missing(description: "no breakpoint stop") }
    guard stop.kind == .signal(5), try client.readRegister("rip") == guest.keUserModeCallback else {
      throw CLI.Missing(description: "the breakpoint stop under KVM is \(stop.kind), not SIGTRAP at the breakpoint")
    }
  }

  /// Resumes and interrupts until the loop has counted a round (at most 10 s); the guest is stopped then.
  static func waitForLoop(_ guest: TraceGuest, _ client: GDBClient) throws {
    for _ in 0..<100 {
      try client.resume()
      usleep(100_000)
      _ = try client.interrupt()
      if let rounds = try? client.readUnsigned(guest.roundsCounter, width: 8), rounds > 0 { return }
    }
    throw CLI.Missing(description: "the boot guest never reached its loop")
  }

  /// The guest's RAM size (the image's 64 MiB and the stub above it fit).
  static let memoryMiB = 128

  /// QEMU running `guest`, not yet attached to; with `ramFile`, the guest's RAM is that file
  /// (`memory-backend-file,share=on`, created here at its full size).
  static func start(_ guest: TraceGuest, ramFile: String? = nil, qmp: String? = nil) throws -> GDBStubGuest {
    var machine = "pc"
    var backend: [String] = []
    if let ramFile {
      FileManager.default.createFile(atPath: ramFile, contents: nil)
      let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: ramFile))
      try handle.truncate(atOffset: UInt64(memoryMiB) << 20)
      try handle.close()
      machine = "pc,memory-backend=ram"
      backend = ["-object", "memory-backend-file,id=ram,size=\(memoryMiB)M,mem-path=\(ramFile),share=on"]
    }
    if let qmp { backend += ["-qmp", "unix:\(qmp),server,nowait"] }
    return try GDBStubGuest(
      machine: machine, accelerator: accelerator(for: guest), memory: "\(memoryMiB)M",
      arguments: backend + guest.qemuArguments,
      stopped: false)
  }

  /// `start`, then waits until the loop has counted a round; the stub is free again (detached).
  static func boot(_ guest: TraceGuest, ramFile: String? = nil, qmp: String? = nil) throws -> GDBStubGuest {
    let qemu = try start(guest, ramFile: ramFile, qmp: qmp)
    do {
      let client = try GDBClient(try GDBEndpoint(parsing: qemu.address))
      defer { client.close() }
      try waitForLoop(guest, client)
      try client.detach()
      return qemu
    } catch {
      qemu.stop()
      throw error
    }
  }
}
