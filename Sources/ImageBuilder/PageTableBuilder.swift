// Builds x86/x64 page tables in a PhysicalMemoryBuilder: maps 4 KiB / 2 MiB / 4 MiB / 1 GiB pages,
// writes the Windows self-referencing entry, and places raw (software) PTEs for paged-out tests.
// Entry bits per the Intel SDM vol. 3A, tables 4-4…4-20: P 0, R/W 1, U/S 2, A 5, D 6, PS 7, G 8, XD 63.

/// Page tables of one address space, written into physical memory as they are built.
public final class PageTableBuilder {
  /// The physical memory the tables live in.
  public let memory: PhysicalMemoryBuilder
  /// The paging mode.
  public let format: PageTableFormat
  /// Physical address of the top-level table (the DTB / CR3 value).
  public let root: UInt64
  /// Index of the self-referencing entry (see `PageTableFormat.defaultSelfReferenceIndex`), if any.
  public let selfReferenceIndex: Int?

  private static let present: UInt64 = 1 << 0
  private static let writableBit: UInt64 = 1 << 1
  private static let userBit: UInt64 = 1 << 2
  private static let accessed: UInt64 = 1 << 5
  private static let dirty: UInt64 = 1 << 6
  private static let largePage: UInt64 = 1 << 7
  private static let globalBit: UInt64 = 1 << 8
  private static let noExecuteBit: UInt64 = 1 << 63

  /// Where the self-referencing entry goes.
  public enum SelfMap: Sendable, Hashable {
    /// No self-map.
    case none
    /// `PageTableFormat.defaultSelfReferenceIndex`.
    case standard
    /// This index (x64: top-level slot; x86: PDE; PAE: first of four PDEs in the last PD).
    case index(Int)
  }

  /// New, empty tables; the root is allocated from `memory` unless `root` is given (page aligned).
  /// For x64 the self-map occupies top-level slot `selfMap`; for x86 it is a PDE (0x300 by default);
  /// for PAE the four PDs are entered at PD[3][index … index+3].
  public init(
    memory: PhysicalMemoryBuilder, format: PageTableFormat, root: UInt64? = nil,
    selfMap: SelfMap = .standard
  ) throws {
    self.memory = memory
    self.format = format
    if let root {
      guard root % PhysicalMemoryBuilder.pageSize == 0 else {
        throw ImageBuilderError.misaligned(
          what: "page-table root", value: root, alignment: PhysicalMemoryBuilder.pageSize)
      }
      try memory.reserve(root, length: PhysicalMemoryBuilder.pageSize)
      self.root = root
    } else {
      self.root = try memory.allocatePage()
    }
    let index: Int?
    switch selfMap {
    case .none: index = nil
    case .standard: index = format.defaultSelfReferenceIndex
    case .index(let chosen): index = chosen
    }
    self.selfReferenceIndex = index
    guard let index else { return }
    let top = format.levels[0]
    switch format {
    case .x86, .x64FourLevel, .x64FiveLevel:
      guard index >= 0, index < 1 << top.bits else {
        throw ImageBuilderError.invalid("self-map index \(index) out of range")
      }
      var entry = self.root | Self.present | Self.writableBit | Self.accessed | Self.dirty
      if format != .x86 { entry |= Self.noExecuteBit }
      try writeEntry(entry, tableAt: self.root, index: index)
    case .x86PAE:
      guard index >= 0, index + 4 <= 512 else {
        throw ImageBuilderError.invalid("PAE self-map index \(index) out of range")
      }
      var directories: [UInt64] = []
      for slot in 0..<4 { directories.append(try table(below: self.root, index: slot, level: top, user: false)) }
      for (slot, directory) in directories.enumerated() {
        let entry = directory | Self.present | Self.writableBit | Self.accessed | Self.dirty | Self.noExecuteBit
        try writeEntry(entry, tableAt: directories[3], index: index + slot)
      }
    }
  }

  /// The virtual address at which the self-map exposes the page tables (Windows' PTE_BASE).
  public var pageTableBase: UInt64? {
    guard let index = selfReferenceIndex else { return nil }
    switch format {
    case .x86: return UInt64(index) << 22
    case .x86PAE: return 0xC000_0000 + UInt64(index) << 21  // index ≤ 508: no overflow
    case .x64FourLevel, .x64FiveLevel: return canonical(UInt64(index) << format.levels[0].shift)
    }
  }

  private func canonical(_ va: UInt64) -> UInt64 {
    let bits = format.virtualAddressBits
    guard bits < 64, va & (1 << (bits - 1)) != 0 else { return va }
    return va | ~((1 << bits) - 1)
  }

  private func checkVirtual(_ va: UInt64) throws {
    let bits = format.virtualAddressBits
    if bits == 32 {
      guard va <= 0xFFFF_FFFF else {
        throw ImageBuilderError.badVirtualAddress(va, mode: format.rawValue, reason: "above 4 GiB")
      }
      return
    }
    guard canonical(va & ((1 << bits) - 1)) == va else {
      throw ImageBuilderError.badVirtualAddress(va, mode: format.rawValue, reason: "not canonical")
    }
  }

  private func index(of va: UInt64, at level: PagingLevel) -> Int {
    Int(truncatingIfNeeded: (va >> UInt64(level.shift)) & ((1 << UInt64(level.bits)) - 1))
  }

  private func readEntry(tableAt table: UInt64, index: Int) throws -> UInt64 {
    let address = table + UInt64(index * format.entrySize)
    return format.entrySize == 4
      ? UInt64(try memory.readLE(UInt32.self, at: address)) : try memory.readLE(UInt64.self, at: address)
  }

  private func writeEntry(_ entry: UInt64, tableAt table: UInt64, index: Int) throws {
    let address = table + UInt64(index * format.entrySize)
    if format.entrySize == 4 {
      guard let narrow = UInt32(exactly: entry) else {
        throw ImageBuilderError.valueTooLarge(what: "x86 PTE", value: entry, limit: 0xFFFF_FFFF)
      }
      try memory.writeLE(narrow, at: address)
    } else {
      try memory.writeLE(entry, at: address)
    }
  }

  /// The next-level table under entry `index` of `table`, created if absent.
  private func table(below table: UInt64, index: Int, level: PagingLevel, user: Bool, va: UInt64 = 0) throws -> UInt64 {
    let entry = try readEntry(tableAt: table, index: index)
    if entry & Self.present != 0 {
      guard entry & Self.largePage == 0 || !level.allowsLargePage else {
        throw ImageBuilderError.conflict(va: va, level: level.name, entry: entry)
      }
      if user, format != .x86PAE || level.name != "PDPT", entry & Self.userBit == 0 {
        try writeEntry(entry | Self.userBit, tableAt: table, index: index)
      }
      return entry & format.frameMask
    }
    let next = try memory.allocatePage()
    var newEntry = next | Self.present
    // PAE PDPTEs have R/W, U/S, A reserved (SDM table 4-8).
    if !(format == .x86PAE && level.name == "PDPT") {
      newEntry |= Self.writableBit | Self.accessed | (user ? Self.userBit : 0)
    }
    try writeEntry(newEntry, tableAt: table, index: index)
    return next
  }

  /// Walks to the table holding the entry for `va` at the level whose leaf size is `leafShift`.
  private func leafTable(for va: UInt64, leafShift: Int, user: Bool) throws -> (table: UInt64, level: PagingLevel) {
    var table = root
    for level in format.levels {
      if level.shift == leafShift { return (table, level) }
      table = try self.table(below: table, index: index(of: va, at: level), level: level, user: user, va: va)
    }
    throw ImageBuilderError.invalid("no \(format.rawValue) level maps pages of 2^\(leafShift) bytes")
  }

  /// Maps one page of `size` at `va` to physical `pa`.
  public func map(va: UInt64, pa: UInt64, size: PageSize = .size4K, flags: PageFlags = [.writable]) throws {
    try checkVirtual(va)
    guard va % size.rawValue == 0, pa % size.rawValue == 0 else {
      throw ImageBuilderError.misaligned(what: "mapping \(hexText(va)) → physical", value: pa, alignment: size.rawValue)
    }
    let shift = size.rawValue.trailingZeroBitCount
    let (table, level) = try leafTable(for: va, leafShift: shift, user: flags.contains(.user))
    guard level.shift == 12 || level.allowsLargePage else {
      throw ImageBuilderError.invalid("\(format.rawValue) has no \(size) pages")
    }
    if format == .x86, pa > 0xFFFF_FFFF {
      throw ImageBuilderError.valueTooLarge(what: "x86 physical", value: pa, limit: 0xFFFF_FFFF)
    }
    let slot = index(of: va, at: level)
    let existing = try readEntry(tableAt: table, index: slot)
    guard existing & Self.present == 0 else {
      throw ImageBuilderError.conflict(va: va, level: level.name, entry: existing)
    }
    var entry = pa | Self.present | Self.accessed | Self.dirty
    if level.shift != 12 { entry |= Self.largePage }
    if flags.contains(.writable) { entry |= Self.writableBit }
    if flags.contains(.user) { entry |= Self.userBit }
    if flags.contains(.global) { entry |= Self.globalBit }
    if flags.contains(.noExecute), format != .x86 { entry |= Self.noExecuteBit }
    try writeEntry(entry, tableAt: table, index: slot)
  }

  /// Maps `length` bytes at `va` to `pa` with pages of `size` (both addresses aligned to it).
  public func map(va: UInt64, pa: UInt64, length: UInt64, size: PageSize = .size4K, flags: PageFlags = [.writable])
    throws
  {
    // The last byte must not wrap past 2^64 (for va or pa).
    guard
      length == 0
        || (!pa.addingReportingOverflow(length - 1).overflow && !va.addingReportingOverflow(length - 1).overflow)
    else {
      throw ImageBuilderError.badVirtualAddress(
        va, mode: format.rawValue, reason: "\(hexText(length)) bytes wrap around")
    }
    var done: UInt64 = 0
    while done < length {
      try map(va: va &+ done, pa: pa + done, size: size, flags: flags)  // va wrap is caught by checkVirtual
      done += size.rawValue
    }
  }

  /// Writes a raw not-present (software) entry for the 4 KiB page at `va`, creating the tables above it.
  public func setSoftwareEntry(va: UInt64, _ pte: UInt64) throws {
    try checkVirtual(va)
    guard pte & Self.present == 0 else {
      throw ImageBuilderError.invalid("software PTE \(hexText(pte)) has the valid bit set")
    }
    let (table, level) = try leafTable(for: va & ~0xFFF, leafShift: 12, user: false)
    try writeEntry(pte, tableAt: table, index: index(of: va, at: level))
  }

  /// Copies top-level entries `range` from another address space (how Windows shares the kernel half).
  public func shareTopLevelEntries(_ range: Range<Int>, from other: PageTableBuilder) throws {
    guard other.format == format else { throw ImageBuilderError.invalid("cannot share entries between paging modes") }
    for slot in range where slot != selfReferenceIndex && slot != other.selfReferenceIndex {
      let entry = try other.readEntry(tableAt: other.root, index: slot)
      if entry & Self.present != 0 { try writeEntry(entry, tableAt: root, index: slot) }
    }
  }

  /// The physical address `va` maps to (a walk of the tables built so far).
  public func translate(_ va: UInt64) throws -> UInt64 {
    var table = root
    for level in format.levels {
      let entry = try readEntry(tableAt: table, index: index(of: va, at: level))
      guard entry & Self.present != 0 else { throw ImageBuilderError.notMapped(va: va, level: level.name) }
      let isLeaf = level.shift == 12 || (level.allowsLargePage && entry & Self.largePage != 0)
      if isLeaf {
        let pageMask = (UInt64(1) << UInt64(level.shift)) - 1
        let frameMask = level.shift == 22 ? UInt64(0xFFC0_0000) : format.frameMask & ~pageMask
        return (entry & frameMask) | (va & pageMask)
      }
      table = entry & format.frameMask
    }
    throw ImageBuilderError.notMapped(va: va, level: "PT")
  }

  /// Writes `bytes` at virtual `va` through the tables (pages may be physically scattered).
  public func write(_ bytes: [UInt8], at va: UInt64) throws {
    var done = 0
    while done < bytes.count {
      let address = va &+ UInt64(done)  // mapped addresses never wrap: translate fails first
      let chunk = min(bytes.count - done, 0x1000 - Int(address & 0xFFF))
      try memory.write(Array(bytes[done..<(done + chunk)]), at: try translate(address))
      done += chunk
    }
  }

  /// Reads `count` bytes at virtual `va` through the tables.
  public func read(at va: UInt64, count: Int) throws -> [UInt8] {
    var out: [UInt8] = []
    while out.count < count {
      let address = va &+ UInt64(out.count)  // as in write
      let chunk = min(count - out.count, 0x1000 - Int(address & 0xFFF))
      out += try memory.read(at: try translate(address), count: chunk)
    }
    return out
  }
}

/// `0x…` for messages.
func hexText(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }
