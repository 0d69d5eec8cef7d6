// `trace --ram FILE` on the boot guest whose RAM is a QEMU memory-backend file (share=on): memory is
// read from the file, registers through the stub, and the log must still be exactly the guest's own
// sequence (TraceCLITests.checkSequence), with the file's layout flat, named (`--ram-layout pc`) or
// from QEMU's QMP (`--qmp`, info mtree); a RAM file that is not the guest's is a clear error with
// status 2, and the guest runs on unpatched either way.

import Foundation
import TestData
import Testing

#if canImport(Glibc)
  import Glibc
#endif

@Suite(.serialized) struct TraceRAMTests {
  /// A RAM file path of this test process in the guest's build folder.
  static func ramFile(_ guest: TraceGuest, _ name: String) -> String {
    guest.directory.appendingPathComponent("\(name)-\(getpid()).ram").path
  }

  @Test func ramFileLogsExactlyTheSequence() throws {
    let guest = try TraceCLITests.guest()
    let ram = Self.ramFile(guest, "guest")
    defer { try? FileManager.default.removeItem(atPath: ram) }
    let qemu = try TraceQEMU.boot(guest, ramFile: ram)
    defer { qemu.stop() }
    let count = 2 * TraceGuest.reportable.count + 1
    let result = try CLI.run(
      TraceCLITests.arguments(guest, qemu, ["--ram", ram, "--count", String(count), "--format", "jsonl"]))
    #expect(result.status == 0, "\(result.stderr)")
    let records = try TraceCLITests.records(result.stdout)
    let events = records.filter { $0["event"] as? String == "callback" }
    #expect(events.count == count)
    TraceCLITests.checkSequence(events, guest: guest, entries: TraceGuest.reportable)
    // The torn thread's hits are unreadable in the file too, named by structure and address.
    let warnings = (records.last?["warnings"] as? [String]) ?? []
    #expect(!warnings.isEmpty)
    #expect(
      warnings.allSatisfy { $0.contains("EPROCESS.UniqueProcessId/ImageFileName at 0xffffc0de00000") }, "\(warnings)")
    try TraceCLITests.checkResumedAndUnpatched(guest, qemu)
  }

  /// The file's layout from QEMU itself (QMP `info mtree`), or named (`--ram-layout pc`), as `watch`.
  @Test(arguments: [true, false]) func ramLayoutFromQMPOrNamed(qmp: Bool) throws {
    let guest = try TraceCLITests.guest()
    let ram = Self.ramFile(guest, "layout")
    // A unix socket path must stay short (sun_path): /tmp, not the build folder.
    let socket = "/tmp/callscope-trace-qmp-\(getpid()).sock"
    defer {
      try? FileManager.default.removeItem(atPath: ram)
      try? FileManager.default.removeItem(atPath: socket)
    }
    let qemu = try TraceQEMU.boot(guest, ramFile: ram, qmp: qmp ? socket : nil)
    defer { qemu.stop() }
    let layout = qmp ? ["--qmp", socket] : ["--ram-layout", "pc"]
    let count = TraceGuest.reportable.count + 1
    let result = try CLI.run(
      TraceCLITests.arguments(guest, qemu, ["--ram", ram] + layout + ["--count", String(count), "--format", "jsonl"]))
    #expect(result.status == 0, "\(result.stderr)")
    let events = try TraceCLITests.records(result.stdout).filter { $0["event"] as? String == "callback" }
    #expect(events.count == count)
    TraceCLITests.checkSequence(events, guest: guest, entries: TraceGuest.reportable)
    try TraceCLITests.checkResumedAndUnpatched(guest, qemu)
  }

  @Test func ramFileOfAnotherGuestIsStatusTwo() throws {
    let guest = try TraceCLITests.guest()
    let ram = Self.ramFile(guest, "guest")
    let other = Self.ramFile(guest, "zeros")
    defer {
      try? FileManager.default.removeItem(atPath: ram)
      try? FileManager.default.removeItem(atPath: other)
    }
    FileManager.default.createFile(atPath: other, contents: nil)
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: other))
    try handle.truncate(atOffset: UInt64(TraceQEMU.memoryMiB) << 20)
    try handle.close()
    let qemu = try TraceQEMU.boot(guest, ramFile: ram)
    defer { qemu.stop() }
    let result = try CLI.run(TraceCLITests.arguments(guest, qemu, ["--ram", other, "--count", "3"]))
    #expect(result.status == 2)
    let base = "0x" + String(guest.kernelBase, radix: 16)
    #expect(result.stderr.contains("ntoskrnl @ \(base)") && result.stderr.contains(other), "\(result.stderr)")
    #expect(result.stdout.isEmpty)
    try TraceCLITests.checkResumedAndUnpatched(guest, qemu)
  }
}
