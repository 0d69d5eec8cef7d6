// `trace --no-symbols` on the boot guest: no symbol file is looked for; the kernel's profile is the
// symbol-less one (layouts lent by the bundled 19041 build, KTRAP_FRAME's members from the published
// x64 layout, which must equal the 19041 ISF's), and the breakpoint lies on the kernel's
// KeUserModeCallback export (the builder exports it at the ISF's RVA). The log must still be the
// guest's sequence, with and without `--ram`.

import Foundation
import TestData
import Testing

#if canImport(Glibc)
  import Glibc
#endif

@Suite(.serialized) struct TraceSymbolLessTests {
  /// `trace` arguments without the kernel's ISF (user32's PDB stays on the path).
  static func arguments(_ guest: TraceGuest, _ qemu: GDBStubGuest, _ extra: [String]) -> [String] {
    [
      "trace", "--gdb", qemu.address, "--kernel-base", "0x" + String(guest.kernelBase, radix: 16), "--offline",
      "--no-symbols", "--symbols", guest.user32.directory.path,
    ] + extra
  }

  @Test func publishedTrapFrameOffsetsAreThe19041ISFs() throws {
    let isf = try TraceISF.load()
    #expect(try isf.offset("_KTRAP_FRAME", "Rip") == 0x168)
    #expect(try isf.offset("_KTRAP_FRAME", "Rsp") == 0x180)
    #expect(try isf.offset("_KTRAP_FRAME", "Rbp") == 0x158)
  }

  @Test(arguments: [false, true]) func noSymbolsLogsTheSequence(ram: Bool) throws {
    let guest = try TraceCLITests.guest()
    let file = guest.directory.appendingPathComponent("nosym-\(getpid()).ram").path
    defer { try? FileManager.default.removeItem(atPath: file) }
    let qemu = try TraceQEMU.boot(guest, ramFile: ram ? file : nil)
    defer { qemu.stop() }
    let count = TraceGuest.reportable.count + 2
    let result = try CLI.run(
      Self.arguments(guest, qemu, (ram ? ["--ram", file] : []) + ["--count", String(count), "--format", "jsonl"]))
    #expect(result.status == 0, "\(result.stderr)")
    let address = "0x" + String(guest.keUserModeCallback, radix: 16)
    #expect(result.stderr.contains("no symbol file used (--no-symbols)"), "\(result.stderr)")
    #expect(result.stderr.contains("breakpoint at \(address) from the"), "\(result.stderr)")
    let events = try TraceCLITests.records(result.stdout).filter { $0["event"] as? String == "callback" }
    #expect(events.count == count)
    TraceCLITests.checkSequence(events, guest: guest, entries: TraceGuest.reportable)
    try TraceCLITests.checkResumedAndUnpatched(guest, qemu)
  }
}
