// `callscope trace` on a 32-bit x86 guest played by a scripted stub (TraceX86Stub over
// TraceX86Guest): the ApiNumber from the first stack argument, the KPCR from FS base, 4-byte
// pointers, layouts from the x86 PDB the test built (TraceX86Kernel, published offsets checked by
// _Static_assert), callers through a direct Eip, a leaf stub and the EBP chain, one named only by
// user32's PDB. The log must be exactly the sequence the stub played; the breakpoint is removed and
// the stub detached at the end. TraceX86BootTests runs the same guest booted under QEMU.

import Foundation
import TestData
import Testing

@Suite(.serialized) struct TraceX86Tests {
  nonisolated(unsafe) static var cached: TraceX86Guest?
  static func guest() throws -> TraceX86Guest {
    if let cached { return cached }
    let built = try TraceX86Guest()
    cached = built
    return built
  }

  static func run(_ guest: TraceX86Guest, kernelBase: Bool, count: Int) throws -> (
    result: TestData.ProcessResult, stub: TraceX86Stub
  ) {
    let stub = try TraceX86Stub(guest: guest)
    let base = kernelBase ? ["--kernel-base", "0x" + String(guest.kernel.pe.imageBase, radix: 16)] : []
    let result = try CLI.run(
      ["trace", "--gdb", "127.0.0.1:\(stub.port)", "--offline"] + base + [
        "--symbols", guest.kernel.directory.path, "--symbols", guest.user32.directory.path,
        "--count", String(count), "--format", "jsonl",
      ])
    stub.finish()
    return (result, stub)
  }

  @Test(arguments: [true, false]) func x86LogsExactlyTheSequence(kernelBase: Bool) throws {
    let guest = try Self.guest()
    let count = 2 * TraceX86Guest.sequence.count + 1
    let (result, stub) = try Self.run(guest, kernelBase: kernelBase, count: count)
    #expect(result.status == 0, "\(result.stderr)")
    let events = try TraceCLITests.records(result.stdout).filter { $0["event"] as? String == "callback" }
    #expect(events.count == count)
    for (i, event) in events.enumerated() {
      let e = guest.expected(entry: i)
      #expect(event["index"] as? Int == e.index, "\(i): \(event)")
      #expect(event["name"] as? String == e.name, "\(i): \(event)")
      #expect(event["pid"] as? Int == Int(e.pid) && event["process"] as? String == e.process, "\(i): \(event)")
      #expect(event["tid"] as? Int == Int(e.tid), "\(i): \(event)")
      #expect(event["caller"] as? String == e.caller, "\(i): \(event)")
    }
    #expect(stub.inserted == [guest.keUserModeCallback])
    #expect(stub.removed == stub.inserted)
    #expect(stub.detached)
  }
}
