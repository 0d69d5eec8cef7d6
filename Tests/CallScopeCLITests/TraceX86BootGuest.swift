// The x86 guest (TraceX86Guest's memory) made bootable under QEMU: its virtual pages get physical
// frames from 1 MiB up, PAE page tables map them (Intel SDM vol. 3A §4.4: a 32-byte PDPT of four
// entries with only the present bit, page directories and tables of 512 eight-byte entries), one
// PDPT per process (the same tables, so each process has its own CR3; the PDPTs lie first, so the
// CR3s are known before the loop is assembled), and a loop in kernel memory
// calls KeUserModeCallback(ApiNumber) — pushed on the stack, cdecl — for each entry of the
// sequence after loading the process's CR3 and writing KPRCB.CurrentThread through FS
// (fs:[0x124], FS's descriptor based at the KPCR). A multiboot stub (the machine starts in 32-bit
// protected mode) loads the GDT, turns on PAE paging and jumps to the loop: it never leaves
// 32-bit mode.

import Foundation
import TestData

/// The bootable x86 guest.
struct TraceX86BootGuest {
  let guest: TraceX86Guest
  let bootStub: String
  let memoryFile: String
  /// The loop's round counter (a 32-bit kernel virtual address).
  let roundsCounter: UInt64

  static let loopPage: UInt64 = 0x8305_0000
  static let loopStack: UInt64 = 0x8306_0F00
  static let physicalBase: UInt64 = 0x10_0000

  /// QEMU arguments that boot it.
  var qemuArguments: [String] {
    ["-kernel", bootStub, "-device", "loader,file=\(memoryFile),addr=0x100000,force-raw=on"]
  }

  static func build(_ guest: TraceX86Guest) throws -> TraceX86BootGuest {
    let dir = guest.kernel.directory
    // The loop and its stack.
    let prcbThread = TraceX86Kernel.Offset.kpcrPrcbData + TraceX86Kernel.Offset.prcbCurrentThread
    // The PDPTs come first in physical memory, 32 bytes apart: each process's CR3.
    let roots = TraceX86Guest.processes.indices.map { physicalBase + UInt64($0) * 0x20 }
    let table = TraceX86Guest.sequence.map { entry -> String in
      let cr3 = roots[TraceX86Guest.threads[entry.thread].process]
      return "  .long \(TraceGuest.hex(guest.ethreads[entry.thread])), \(TraceGuest.hex(cr3)), \(entry.api)"
    }
    let loop = try TraceGuest.assemble(
      """
      .intel_syntax noprefix
      .text
      .code32
      .globl _start
      _start:
        mov esp, \(TraceGuest.hex(loopStack))
      outer:
        mov esi, offset table
        mov edi, \(TraceX86Guest.sequence.count)
      inner:
        mov eax, [esi + 4]
        mov cr3, eax
        mov eax, [esi]
        mov fs:[\(TraceGuest.hex(prcbThread))], eax
        push dword ptr [esi + 8]
        mov eax, \(TraceGuest.hex(guest.keUserModeCallback))
        call eax
        add esp, 4
        add esi, 12
        dec edi
        jnz inner
        lock inc dword ptr [rounds]
        jmp outer
      .org 0x800
      rounds: .long 0
      table:
      \(table.joined(separator: "\n"))

      """, name: "loop32", target: "i386-pc-none-elf", at: loopPage, in: dir)
    guard loop.count <= 0x1000 else { throw CLI.Missing(description: "x86 loop of \(loop.count) bytes") }
    guest.write(loop, at: loopPage)
    guest.write([UInt8](repeating: 0, count: 0x100), at: loopStack & ~0xFFF)

    // Frames for every virtual page, then the tables; the stub's pages identity mapped.
    var frames: [UInt64: UInt64] = [:]
    var image = [UInt8](repeating: 0, count: 0x1000)  // the PDPTs' page
    for va in guest.pages.keys.sorted() {
      frames[va] = physicalBase + UInt64(image.count)
      image += guest.pages[va] ?? []
    }
    for page in stride(from: TraceGuest.stubAddress, to: TraceGuest.stubAddress + 0x4000, by: 0x1000) {
      frames[page] = page
    }
    func allocate() -> UInt64 {
      let at = physicalBase + UInt64(image.count)
      image += [UInt8](repeating: 0, count: 0x1000)
      return at
    }
    func put(_ value: UInt64, at physical: UInt64) {
      let offset = Int(physical - physicalBase)
      for i in 0..<8 { image[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
    }
    let present: UInt64 = 0x1
    let userWritable: UInt64 = 0x7  // present, writable, user
    var directories: [UInt64: UInt64] = [:]  // PDPT index → page directory
    var pageTables: [UInt64: UInt64] = [:]  // va >> 21 → page table
    for (va, frame) in frames.sorted(by: { $0.key < $1.key }) {
      let pdIndex = va >> 30
      let directory = directories[pdIndex] ?? allocate()
      directories[pdIndex] = directory
      let tableKey = va >> 21
      let pageTable = pageTables[tableKey] ?? allocate()
      if pageTables[tableKey] == nil {
        pageTables[tableKey] = pageTable
        put(pageTable | userWritable, at: directory + ((va >> 21) & 0x1FF) * 8)
      }
      put(frame | userWritable, at: pageTable + ((va >> 12) & 0x1FF) * 8)
    }
    for root in roots {
      for (index, directory) in directories { put(directory | present, at: root + index * 8) }
    }
    guard physicalBase + UInt64(image.count) <= TraceGuest.stubAddress else {
      throw CLI.Missing(description: "the x86 guest's memory (\(image.count) bytes) reaches the boot stub")
    }
    let memoryFile = dir.appendingPathComponent("memory32.bin")
    try Data(image).write(to: memoryFile)

    let stub = """
      .intel_syntax noprefix
      .section .multiboot, "a"
      .balign 4
        .long 0x1BADB002
        .long 0
        .long -0x1BADB002
      .text
      .code32
      .globl _start
      _start:
        cli
        lgdt [gdtr]
        ljmp 0x08, offset reload
      reload:
        mov ax, 0x10
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov ax, 0x18
        mov fs, ax
        mov eax, cr4
        or eax, 0x20
        mov cr4, eax
        mov eax, \(TraceGuest.hex(roots[0]))
        mov cr3, eax
        mov eax, cr0
        or eax, 0x80000001
        mov cr0, eax
        mov eax, \(TraceGuest.hex(loopPage))
        jmp eax
      .balign 8
      gdt:
        .quad 0
        .quad 0x00CF9A000000FFFF
        .quad 0x00CF92000000FFFF
        .quad \(TraceGuest.hex(fsDescriptor(base: TraceX86Guest.kpcr)))
      gdtr:
        .word 31
        .long gdt

      """
    return TraceX86BootGuest(
      guest: guest, bootStub: try TraceGuest.linkStub(stub, in: dir), memoryFile: memoryFile.path,
      roundsCounter: loopPage + 0x800)
  }

  /// A flat 4 GiB writable data segment descriptor based at `base` (Intel SDM vol. 3A §3.4.5: limit
  /// 0xFFFFF with G, D/B set; access 0x92).
  static func fsDescriptor(base: UInt64) -> UInt64 {
    0x00CF_9200_0000_FFFF | (base & 0xFF_FFFF) << 16 | (base >> 24 & 0xFF) << 56
  }
}
