// CPU state from ELF core notes.
// QEMU (target/i386/arch_dump.c, QEMUCPUState, note name "QEMU"): version u32, size u32, 18
// general registers (rax…r15, rip, rflags; u64), 10 QEMUCPUSegment {selector, limit, flags, pad
// (u32 each), base u64} for cs ds es fs gs ss ldt tr gdt idt, then cr[5] (u64) at 0x188, then
// kernel_gs_base; no EFER. Checked on QEMU 7.2 captures (descsz 0x1b8, cr3 at 0x1a0).
// VirtualBox (include/VBox/vmm/dbgfcorefmt.h, DBGFCORECPU, note name "VBCPU"): 18 registers,
// 6 DBGFCORESEL (24 bytes), cr0 at 0x120, cr2, cr3 at 0x130, cr4 at 0x138, dr[8], gdtr, idtr,
// ldtr, tr, sysenter, msrEFER at 0x1e8.

/// Reads CPU 0's control registers from QEMU or VirtualBox notes and infers the paging mode.
enum ELFCPUNotes {
  static let qemuCR0: UInt64 = 0x188
  static let qemuCRCount: UInt64 = 5
  static let vboxCR0: UInt64 = 0x120
  static let vboxCR3: UInt64 = 0x130
  static let vboxCR4: UInt64 = 0x138
  static let vboxEFER: UInt64 = 0x1E8
  /// NT_PRSTATUS.
  static let ntPRStatus: UInt32 = 1
  /// sizeof(struct elf_prstatus) for x86-64 Linux cores (i386: 0x90).
  static let prstatusSizeX64: UInt64 = 0x150

  /// The first CPU note with control registers, or nil (a short or malformed note is ignored).
  static func cpuState(_ notes: [ELFNote], reader r: ImageFileReader) -> CPUState? {
    for note in notes {
      if note.name == "QEMU", note.descSize >= qemuCR0 + qemuCRCount * 8 {
        guard let size = try? r.u32(note.descOffset + 4, "QEMUCPUState.size"),
          UInt64(size) >= qemuCR0 + qemuCRCount * 8,
          let cr0 = try? r.u64(note.descOffset + qemuCR0, "QEMUCPUState.cr[0]"),
          let cr3 = try? r.u64(note.descOffset + qemuCR0 + 24, "QEMUCPUState.cr[3]"),
          let cr4 = try? r.u64(note.descOffset + qemuCR0 + 32, "QEMUCPUState.cr[4]")
        else { continue }
        return CPUState(cr0: cr0, cr3: cr3, cr4: cr4, efer: nil)
      }
      if note.name == "VBCPU", note.descSize >= vboxEFER + 8 {
        guard let cr0 = try? r.u64(note.descOffset + vboxCR0, "DBGFCORECPU.cr0"),
          let cr3 = try? r.u64(note.descOffset + vboxCR3, "DBGFCORECPU.cr3"),
          let cr4 = try? r.u64(note.descOffset + vboxCR4, "DBGFCORECPU.cr4"),
          let efer = try? r.u64(note.descOffset + vboxEFER, "DBGFCORECPU.msrEFER")
        else { continue }
        return CPUState(cr0: cr0, cr3: cr3, cr4: cr4, efer: efer)
      }
    }
    return nil
  }

  /// Long mode as the container says: NT_PRSTATUS of x86-64 size, else the ELF machine.
  static func longMode(_ notes: [ELFNote], machine: UInt16) -> Bool {
    if let status = notes.first(where: { $0.name == "CORE" && $0.type == ntPRStatus }) {
      return status.descSize >= prstatusSizeX64
    }
    return machine == ELFCoreImage.emX86_64
  }

  /// Paging mode from the registers; EFER.LMA when recorded, otherwise `longMode`.
  static func pagingMode(_ cpu: CPUState, longMode: Bool) -> PagingMode? {
    if let cr0 = cpu.cr0, cr0 & (1 << 31) == 0 { return nil }  // CR0.PG clear: no paging
    if cpu.efer != nil { return cpu.pagingMode }
    guard let cr4 = cpu.cr4 else { return nil }
    if longMode { return cr4 & (1 << 12) != 0 ? .x64FiveLevel : .x64FourLevel }
    return cr4 & (1 << 5) != 0 ? .x86PAE : .x86
  }

  /// CR3 reduced to the top-level table address for `mode`.
  static func tableRoot(cr3: UInt64, mode: PagingMode) -> UInt64 {
    switch mode {
    case .x86PAE: return cr3 & 0xFFFF_FFE0
    case .x86: return cr3 & 0xFFFF_F000
    case .x64FourLevel, .x64FiveLevel: return cr3 & 0x000F_FFFF_FFFF_F000
    }
  }
}
