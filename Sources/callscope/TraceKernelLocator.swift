// Finding ntoskrnl in a live guest without --kernel-base, before any profile is known: the KPCR (GS
// base in kernel mode, else the swapped-out KernelGSBase; FS base on x86) checked by its Self
// pointer, its IdtBase, the divide-error handler of IDT entry 0 (code in ntoskrnl), then page starts
// walked down from the handler to the MZ/PE header whose SizeOfImage covers it. The KPCR members
// are TraceArchitecture's; the KIDTENTRY64 offset fields (+0x0, +0x6, +0x8) and x86 KIDTENTRY's
// Offset/ExtendedOffset (+0x0, +0x6) have not moved since Windows Vista (public PDBs; the 19041 ISF
// agrees for x64).

import BinaryReading
import GDBRemote

/// Locates the kernel image through the stub.
enum TraceKernelLocator {
  /// How far below the handler the image start is looked for (ntoskrnl is below 32 MiB in size).
  static let maxScan: UInt64 = 0x200_0000

  /// The kernel's base, or a named error saying which step failed.
  static func locate(_ memory: TraceMemory, architecture: TraceArchitecture = .x64) throws -> UInt64 {
    let client = memory.client
    let width = architecture.pointerSize
    var candidates: [UInt64] = []
    for name in [architecture.kpcrRegister] + (architecture.otherKPCRRegister.map { [$0] } ?? []) {
      if let value = try? client.readRegister(name), value >= architecture.kernelStart { candidates.append(value) }
    }
    guard
      let kpcr = candidates.first(where: {
        (try? memory.unsigned($0 &+ architecture.kpcrSelf, width: width, what: "KPCR.Self")) == $0
      })
    else {
      throw TraceError.kernel(
        "no KPCR in \(architecture.kpcrRegister) (\(candidates.map { "0x" + String($0, radix: 16) })) whose Self "
          + "points to itself; give --kernel-base")
    }
    let idt = try memory.unsigned(kpcr &+ architecture.kpcrIdt, width: width, what: "KPCR.IdtBase")
    let what = architecture == .x64 ? "IDT entry 0 (KIDTENTRY64)" : "IDT entry 0 (KIDTENTRY)"
    let entry = ByteCursor(try memory.read(idt, count: 2 * width, what: what), origin: idt, source: what)
    var handler = UInt64(try entry.getLE(UInt16.self, at: 0)) | UInt64(try entry.getLE(UInt16.self, at: 6)) << 16
    if architecture == .x64 { handler |= UInt64(try entry.getLE(UInt32.self, at: 8)) << 32 }
    guard handler >= architecture.kernelStart else {
      throw TraceError.kernel("IDT entry 0 at 0x\(String(idt, radix: 16)) holds no kernel handler; give --kernel-base")
    }
    var page = handler & ~0xFFF
    let floor = handler > maxScan ? handler - maxScan : 0
    while page >= floor {
      if let mz = try? memory.read(page, count: 2, what: "a page start"), mz == [0x4D, 0x5A],
        let lfanew = try? memory.unsigned(page &+ 0x3C, width: 4, what: "e_lfanew"), lfanew < 0x1000,
        let header = try? memory.read(page &+ lfanew, count: 0x58, what: "the PE header"),
        header.prefix(4) == [0x50, 0x45, 0, 0], let size = try? ByteCursor(header).getLE(UInt32.self, at: 0x50),
        handler - page < UInt64(size)
      {
        return page
      }
      guard page >= 0x1000 else { break }
      page -= 0x1000
    }
    throw TraceError.kernel(
      "no PE image within 32 MiB below the divide-error handler 0x\(String(handler, radix: 16)); give --kernel-base")
  }
}
