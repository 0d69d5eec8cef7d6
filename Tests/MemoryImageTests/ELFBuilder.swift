// Builds synthetic ELF core files (ELF32 / ELF64, PT_LOAD + PT_NOTE) following the System V gABI
// layouts, with QEMU ("QEMU", QEMUCPUState) and VirtualBox ("VBCPU", DBGFCORECPU) CPU notes.

enum ELFBuilder {
  struct Load {
    var paddr: UInt64
    var data: [UInt8]
  }

  /// QEMUCPUState (target/i386/arch_dump.c): version, size, 18 × u64 registers, 10 × 24-byte
  /// segments, then cr[5]: cr[0] at 8 + 144 + 240 = 0x188.
  static func qemuNote(cr0: UInt64, cr3: UInt64, cr4: UInt64) -> [UInt8] {
    var d = Bytes(count: 0x1B8)
    d.put(UInt32(1), at: 0)
    d.put(UInt32(0x1B8), at: 4)
    let cr = 8 + 18 * 8 + 10 * 24
    d.put(cr0, at: cr)
    d.put(cr3, at: cr + 24)
    d.put(cr4, at: cr + 32)
    return d.data
  }

  /// DBGFCORECPU (VBox dbgfcorefmt.h): 18 × u64, 6 × 24-byte selectors → cr0 at 0x120, cr2, cr3, cr4,
  /// dr[8], gdtr, idtr (16 each), ldtr, tr (24 each), sysenter (24) → msrEFER at 0x1E8.
  static func vboxNote(cr0: UInt64, cr3: UInt64, cr4: UInt64, efer: UInt64) -> [UInt8] {
    var d = Bytes(count: 0x230)
    let cr0At = 18 * 8 + 6 * 24
    d.put(cr0, at: cr0At)
    d.put(cr3, at: cr0At + 16)
    d.put(cr4, at: cr0At + 24)
    d.put(efer, at: cr0At + 32 + 64 + 32 + 48 + 24)
    return d.data
  }

  /// An ET_CORE file: the note segment first, then the loads in order.
  static func core(is64: Bool, machine: UInt16, loads: [Load], notes: [(name: String, type: UInt32, desc: [UInt8])])
    -> [UInt8]
  {
    let ehsize = is64 ? 64 : 52
    let phentsize = is64 ? 56 : 32
    let phnum = loads.count + 1
    var b = Bytes(count: ehsize)
    b.put([0x7F, 0x45, 0x4C, 0x46, is64 ? 2 : 1, 1, 1, 0], at: 0)
    b.put(UInt16(4), at: 16)  // ET_CORE
    b.put(machine, at: 18)
    b.put(UInt32(1), at: 20)
    if is64 {
      b.put(UInt64(ehsize), at: 0x20)
      b.put(UInt16(ehsize), at: 0x34)
      b.put(UInt16(phentsize), at: 0x36)
      b.put(UInt16(phnum), at: 0x38)
    } else {
      b.put(UInt32(ehsize), at: 0x1C)
      b.put(UInt16(ehsize), at: 0x28)
      b.put(UInt16(phentsize), at: 0x2A)
      b.put(UInt16(phnum), at: 0x2C)
    }
    var noteBytes: [UInt8] = []
    for n in notes {
      var h = Bytes(count: 12)
      let name = Array(n.name.utf8) + [0]
      h.put(UInt32(name.count), at: 0)
      h.put(UInt32(n.desc.count), at: 4)
      h.put(n.type, at: 8)
      noteBytes += h.data + name + [UInt8](repeating: 0, count: (4 - name.count % 4) % 4)
      noteBytes += n.desc + [UInt8](repeating: 0, count: (4 - n.desc.count % 4) % 4)
    }
    var offset = ehsize + phentsize * phnum
    func phdr(_ i: Int, type: UInt32, offset: Int, paddr: UInt64, size: Int) {
      let at = ehsize + phentsize * i
      if is64 {
        b.put(type, at: at)
        b.put(UInt64(offset), at: at + 8)
        b.put(paddr, at: at + 0x10)
        b.put(paddr, at: at + 0x18)
        b.put(UInt64(size), at: at + 0x20)
        b.put(UInt64(size), at: at + 0x28)
      } else {
        b.put(type, at: at)
        b.put(UInt32(offset), at: at + 4)
        b.put(UInt32(truncatingIfNeeded: paddr), at: at + 8)
        b.put(UInt32(truncatingIfNeeded: paddr), at: at + 0xC)
        b.put(UInt32(size), at: at + 0x10)
        b.put(UInt32(size), at: at + 0x14)
      }
    }
    phdr(0, type: 4, offset: offset, paddr: 0, size: noteBytes.count)
    b.put(noteBytes, at: offset)
    offset += noteBytes.count
    for (i, load) in loads.enumerated() {
      phdr(i + 1, type: 1, offset: offset, paddr: load.paddr, size: load.data.count)
      b.put(load.data, at: offset)
      offset += load.data.count
    }
    return b.data
  }
}
