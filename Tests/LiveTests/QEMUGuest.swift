// A real QEMU whose RAM is a memory-backend file (or memfd), with a QMP socket beside the gdbstub:
// TestData's launcher (GDBStubGuest) with the backend and QMP arguments, waited on until QMP states
// the backend; physical writes through the gdbstub with the GDBRemote client.

import Foundation
import GDBRemote
import Live
import TestData

/// A QEMU process for one test.
final class QEMUGuest {
  let qemu: GDBStubGuest
  let qmpPath: String
  let ramPath: String
  var gdbPort: UInt16 { qemu.port }
  /// `kvm` when /dev/kvm can be opened, else `tcg`.
  var accelerator: String { qemu.accelerator }

  /// Starts QEMU with `ramPath` (already `ramSize` bytes long) as the guest's RAM, or with a
  /// memory-backend-memfd when `ramPath` is empty; `stopped`: with -S (the CPUs never run, so
  /// nothing but the test writes the RAM).
  init(ramPath: String, ramSize: UInt64, machine: String = "pc", directory: URL, stopped: Bool = true) throws {
    self.ramPath = ramPath
    let qmpPath = directory.appendingPathComponent("qmp.sock").path
    self.qmpPath = qmpPath
    let mib = ramSize >> 20
    // Ready once QMP states the memory backend (not by probing the gdbstub: that would pause a
    // guest started running).
    qemu = try GDBStubGuest(
      machine: "\(machine),memory-backend=ram", accelerator: GDBStubGuest.fastestAccelerator(), memory: "\(mib)M",
      arguments: [
        "-object",
        ramPath.isEmpty
          ? "memory-backend-memfd,id=ram,size=\(mib)M,share=on"
          : "memory-backend-file,id=ram,size=\(mib)M,mem-path=\(ramPath),share=on",
        "-qmp", "unix:\(qmpPath),server,nowait",
      ], stopped: stopped, seconds: 30,
      ready: { _ in (try? QMPClient(path: qmpPath, timeout: 2).memoryBackends().isEmpty == false) ?? false })
  }

  /// `/proc/PID/fd/N` of the guest's memfd (QEMU names it `memfd:memory-backend-memfd`).
  func memfdPath() throws -> String {
    let dir = "/proc/\(qemu.processIdentifier)/fd"
    // QEMU may create the memory backends after QMP listens: wait for the memfd a little.
    let deadline = Date().addingTimeInterval(20)
    repeat {
      for entry in try FileManager.default.contentsOfDirectory(atPath: dir) {
        let link = (try? FileManager.default.destinationOfSymbolicLink(atPath: "\(dir)/\(entry)")) ?? ""
        if link.hasPrefix("/memfd:memory-backend-memfd") { return "\(dir)/\(entry)" }
      }
      usleep(50_000)
    } while Date() < deadline && qemu.isRunning
    throw TestDataError.tool("no memfd:memory-backend-memfd among QEMU's descriptors")
  }

  /// Ends QEMU at once (SIGKILL) and waits for it.
  func kill() { qemu.kill() }
}

/// Guest physical memory written through QEMU's gdbstub with the GDBRemote client: `Qqemu.PhyMemMode:1`
/// (QEMU docs/system/gdb.rst) makes the stub's memory packets physical, then `M`. Attaching stops the
/// guest's CPUs (QEMU pauses on a debugger's attach); closing leaves them so.
final class GDBStub {
  private let client: GDBClient

  init(port: UInt16) throws {
    client = try GDBClient(GDBEndpoint(host: "127.0.0.1", port: port), timeout: 10)
    let mode: String
    do { mode = try client.connection.request("Qqemu.PhyMemMode:1") } catch {
      client.close()
      throw error
    }
    guard mode == "OK" else {
      client.close()
      throw TestDataError.tool("gdbstub: Qqemu.PhyMemMode:1 answered \(mode)")
    }
  }

  deinit { client.close() }

  /// Writes `bytes` at guest physical `address`.
  func writePhysical(_ address: UInt64, _ bytes: [UInt8]) throws { try client.writeMemory(address, bytes) }
}
