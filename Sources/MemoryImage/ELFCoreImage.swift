// ELF core files as physical memory: QEMU `dump-guest-memory` / `virsh dump` (paging=false) and
// VirtualBox `dumpvmcore`. Each PT_LOAD segment's p_paddr is a physical address and its
// p_filesz bytes at p_offset are that memory. Layout source: System V ABI (gABI) ELF header and
// program header (Elf32_Ehdr/Elf64_Ehdr, Elf32_Phdr/Elf64_Phdr), PN_XNUM extension; notes are
// 4-byte aligned name/desc records as in core(5) files.

import BinaryReading

/// One ELF note: owner name, type and the file range of its descriptor.
struct ELFNote: Sendable {
  var name: String
  var type: UInt32
  var descOffset: UInt64
  var descSize: UInt64
}

/// Parses an ELF core's program headers into segments and notes.
enum ELFCoreImage {
  static let ptLoad: UInt32 = 1
  static let ptNote: UInt32 = 4
  static let emX86_64: UInt16 = 62
  static let em386: UInt16 = 3
  /// PN_XNUM: the real program-header count is in section header 0's sh_info.
  static let pnXNum: UInt16 = 0xFFFF

  static func open(_ file: MappedFile) throws(MemoryImageError) -> SegmentedImage {
    let r = ImageFileReader(file)
    try r.require(0, 16, "ELF identification (e_ident)")
    let elfClass = try r.u8(4, "ELF EI_CLASS")
    guard elfClass == 1 || elfClass == 2 else {
      throw r.corrupt(4, "ELF EI_CLASS is \(elfClass), expected 1 (ELFCLASS32) or 2 (ELFCLASS64)")
    }
    let is64 = elfClass == 2
    let data = try r.u8(5, "ELF EI_DATA")
    guard data == 1 else {
      if data == 2 { throw .unsupported(path: r.path, message: "big-endian ELF core (EI_DATA = 2)") }
      throw r.corrupt(5, "ELF EI_DATA is \(data), expected 1 (little-endian)")
    }
    let headerSize: UInt64 = is64 ? 64 : 52
    try r.require(0, headerSize, is64 ? "ELF64 header (Elf64_Ehdr)" : "ELF32 header (Elf32_Ehdr)")
    let type = try r.u16(16, "e_type")
    guard type == 4 else {
      throw .unsupported(path: r.path, message: "ELF file of e_type \(type) is not a core dump (ET_CORE = 4)")
    }
    let machine = try r.u16(18, "e_machine")
    let phoff = is64 ? try r.u64(0x20, "e_phoff") : UInt64(try r.u32(0x1C, "e_phoff"))
    let shoff = is64 ? try r.u64(0x28, "e_shoff") : UInt64(try r.u32(0x20, "e_shoff"))
    let phentsize = UInt64(try r.u16(is64 ? 0x36 : 0x2A, "e_phentsize"))
    var phnum = UInt64(try r.u16(is64 ? 0x38 : 0x2C, "e_phnum"))
    let minEntry: UInt64 = is64 ? 56 : 32
    guard phentsize >= minEntry else {
      throw r.corrupt(is64 ? 0x36 : 0x2A, "e_phentsize is \(phentsize), expected at least \(minEntry)")
    }
    if phnum == UInt64(pnXNum) {
      // Section header 0 holds the count in sh_info (offset 0x2C in Elf64_Shdr, 0x1C in Elf32_Shdr).
      let infoAt = try r.add(shoff, is64 ? 0x2C : 0x1C, at: is64 ? 0x28 : 0x20, "e_shoff + sh_info")
      phnum = UInt64(try r.u32(infoAt, "section header 0 sh_info (PN_XNUM program-header count)"))
    }
    let tableSize = try r.multiply(phnum, phentsize, at: phoff, "program-header table size")
    try r.require(phoff, tableSize, "program-header table (\(phnum) entries of \(phentsize) bytes)")

    var segments: [Segment] = []
    var notes: [ELFNote] = []
    for i in 0..<phnum {
      let at = phoff + i * phentsize  // inside the checked table
      let pType = try r.u32(at, "p_type")
      let offset = is64 ? try r.u64(at + 8, "p_offset") : UInt64(try r.u32(at + 4, "p_offset"))
      let paddr = is64 ? try r.u64(at + 0x18, "p_paddr") : UInt64(try r.u32(at + 0x0C, "p_paddr"))
      let filesz = is64 ? try r.u64(at + 0x20, "p_filesz") : UInt64(try r.u32(at + 0x10, "p_filesz"))
      switch pType {
      case ptLoad:
        guard filesz > 0 else { continue }
        let end = try r.add(offset, filesz, at: at, "PT_LOAD \(i) p_offset + p_filesz")
        guard end <= r.size else {
          throw r.corrupt(
            at,
            "PT_LOAD \(i) (p_paddr \(Hex.format(paddr))) needs file bytes up to \(Hex.format(end)) but the file ends at \(Hex.format(r.size))"
          )
        }
        segments.append(Segment(start: paddr, length: filesz, fileOffset: offset, describedAt: at))
      case ptNote:
        notes += try readNotes(r, offset: offset, size: filesz, at: at)
      default:
        continue
      }
    }
    let map = try SegmentMap(validating: segments, reader: r, what: "PT_LOAD segment")
    guard map.count > 0 else {
      throw r.corrupt(
        phoff, "ELF core has no PT_LOAD segment with file data (\(phnum) program headers), expected at least one")
    }
    let cpu = ELFCPUNotes.cpuState(notes, reader: r)
    let longMode = ELFCPUNotes.longMode(notes, machine: machine)
    let mode = cpu.flatMap { ELFCPUNotes.pagingMode($0, longMode: longMode) }
    var dtb: UInt64? = nil
    if let cpu, let mode { dtb = ELFCPUNotes.tableRoot(cr3: cpu.cr3, mode: mode) }
    return SegmentedImage(
      file: file, formatName: "elf-core", map: map, cpuState: cpu, statedPagingMode: mode,
      statedDirectoryTableBase: dtb)
  }

  /// The notes of one PT_NOTE segment (4-byte aligned records).
  static func readNotes(_ r: ImageFileReader, offset: UInt64, size: UInt64, at: UInt64) throws(MemoryImageError)
    -> [ELFNote]
  {
    let end = try r.add(offset, size, at: at, "PT_NOTE p_offset + p_filesz")
    guard end <= r.size else {
      throw r.corrupt(
        at, "PT_NOTE segment ends at \(Hex.format(end)), past the end of the file (\(Hex.format(r.size)))")
    }
    var notes: [ELFNote] = []
    var cursor = offset
    // Each record is at least 12 bytes, so the loop runs at most size / 12 times.
    while end - cursor >= 12 {
      let nameSize = UInt64(try r.u32(cursor, "note n_namesz"))
      let descSize = UInt64(try r.u32(cursor + 4, "note n_descsz"))
      let type = try r.u32(cursor + 8, "note n_type")
      let nameOffset = cursor + 12
      let descOffset = try r.add(nameOffset, (nameSize + 3) & ~3, at: cursor, "note name")
      let next = try r.add(descOffset, (descSize + 3) & ~3, at: cursor, "note descriptor")
      let descEnd = try r.add(descOffset, descSize, at: cursor, "note descriptor end")
      guard descEnd <= end else {
        throw r.corrupt(
          cursor, "note (namesz \(nameSize), descsz \(descSize)) runs past its PT_NOTE segment end \(Hex.format(end))")
      }
      let rawName = try r.bytes(nameOffset, Int(min(nameSize, 64)), "note name")
      let name = String(decoding: rawName.prefix { $0 != 0 }, as: UTF8.self)
      notes.append(ELFNote(name: name, type: type, descOffset: descOffset, descSize: descSize))
      cursor = min(next, end)
    }
    return notes
  }
}
