// Writes a PhysicalMemoryBuilder out in the capture formats the MemoryImage readers accept:
// raw (file offset = physical address), LiME (one header per backed range) and an ELF64 core
// with one PT_LOAD per backed range (the shape of QEMU's `dump-guest-memory`).

extension PhysicalMemoryBuilder {
  /// The raw image: `size` bytes, file offset = physical address; holes and unwritten pages are zeros.
  public func writeRaw(to path: String) throws {
    let file = try SparseFileWriter(path: path, length: size)
    for frame in writtenPageFrames {
      if let bytes = page(frame) { try file.write(bytes, at: frame * Self.pageSize) }
    }
  }

  /// Writes the pages of `range` to `file`, the range starting at file offset `fileOffset`.
  private func writeRange(_ range: Range<UInt64>, to file: SparseFileWriter, at fileOffset: UInt64) throws {
    for frame in writtenPageFrames where range.contains(frame * Self.pageSize) {
      if let bytes = page(frame) { try file.write(bytes, at: fileOffset + (frame * Self.pageSize - range.lowerBound)) }
    }
  }

  /// A LiME file: for each backed range a 32-byte `lime_mem_range_header` then the range's bytes.
  /// Layout from LiME's documentation (`doc/README.md`, "Memory Range Header"): magic 0x4C694D45,
  /// version 1, s_addr, e_addr (inclusive), 8 reserved bytes.
  public func writeLiME(to path: String) throws {
    var total: UInt64 = 0
    for range in backedRanges { total += 32 + UInt64(range.count) }
    let file = try SparseFileWriter(path: path, length: total)
    var offset: UInt64 = 0
    for range in backedRanges {
      var header = ByteBuffer()
      header.append(UInt32(0x4C69_4D45))  // 'EMiL' on disk
      header.append(UInt32(1))
      header.append(range.lowerBound)
      header.append(range.upperBound - 1)
      header.appendZeros(8)
      try file.write(header.bytes, at: offset)
      try writeRange(range, to: file, at: offset + 32)
      offset += 32 + UInt64(range.count)
    }
  }

  /// An ELF64 little-endian core file (ET_CORE, EM_X86_64) with one PT_LOAD per backed range,
  /// p_paddr the physical start, p_vaddr 0, data page aligned in the file. Layout from the System V
  /// gABI ("ELF Header", "Program Header").
  public func writeELFCore(to path: String) throws {
    let count = backedRanges.count
    let headersEnd = UInt64(64 + 56 * count)
    var dataOffset = alignUp(headersEnd, Self.pageSize)
    var offsets: [UInt64] = []
    for range in backedRanges {
      offsets.append(dataOffset)
      dataOffset += UInt64(range.count)
    }
    var header = ByteBuffer()
    header.append([0x7F, 0x45, 0x4C, 0x46, 2, 1, 1, 0])  // ELFMAG, ELFCLASS64, ELFDATA2LSB, EV_CURRENT, SYSV
    header.appendZeros(8)
    header.append(UInt16(4))  // e_type ET_CORE
    header.append(UInt16(62))  // e_machine EM_X86_64
    header.append(UInt32(1))  // e_version
    header.append(UInt64(0))  // e_entry
    header.append(UInt64(64))  // e_phoff
    header.append(UInt64(0))  // e_shoff
    header.append(UInt32(0))  // e_flags
    header.append(UInt16(64))  // e_ehsize
    header.append(UInt16(56))  // e_phentsize
    header.append(UInt16(truncatingIfNeeded: count))  // e_phnum (a handful of ranges)
    header.append(UInt16(64))  // e_shentsize
    header.append(UInt16(0))  // e_shnum
    header.append(UInt16(0))  // e_shstrndx
    for (range, offset) in zip(backedRanges, offsets) {
      header.append(UInt32(1))  // PT_LOAD
      header.append(UInt32(7))  // PF_R | PF_W | PF_X
      header.append(offset)
      header.append(UInt64(0))  // p_vaddr
      header.append(range.lowerBound)  // p_paddr
      header.append(UInt64(range.count))  // p_filesz
      header.append(UInt64(range.count))  // p_memsz
      header.append(UInt64(0))  // p_align
    }
    let file = try SparseFileWriter(path: path, length: dataOffset)
    try file.write(header.bytes, at: 0)
    for (range, offset) in zip(backedRanges, offsets) { try writeRange(range, to: file, at: offset) }
  }
}
