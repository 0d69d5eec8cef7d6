// Parsing of the export directory (PE Format, "The .edata Section (Image Only)"): the 40-byte
// Export Directory Table (Name RVA at 12, Ordinal Base 16, Address Table Entries 20, Number of Name
// Pointers 24, Export Address Table RVA 28, Name Pointer RVA 32, Ordinal Table RVA 36), then the
// address table (4-byte RVAs), the name pointer table (4-byte RVAs) and the ordinal table (2-byte
// indexes into the address table). An address inside the export directory is a forwarder string.

import BinaryReading

extension PEImage {
  /// Ordinals are 16-bit: no more address-table slots or names than this can be meaningful.
  static let maximumExports: UInt32 = 0x1_0000
  /// Longest export or forwarder name read (C++ decorated names can be long).
  static let maximumExportNameLength = 4096

  /// The exports, or `PEExports.none` if the image has no export directory.
  public func exports() throws(PEError) -> PEExports {
    guard let dir = optionalHeader.directory(.export), dir.isPresent else { return .none }
    let structure = "export directory"
    let dirStart = UInt64(dir.rva)
    let dirEnd = dirStart + UInt64(dir.size)  // < 2^33
    guard dirEnd <= UInt64(optionalHeader.sizeOfImage) else {
      throw .invalidRVA(
        source: sourceName, rva: dir.rva, count: UInt64(dir.size), structure: structure,
        detail: "the directory ends past SizeOfImage \(Hex.format(UInt64(optionalHeader.sizeOfImage)))")
    }
    guard dir.size >= 40 else {
      throw .corrupt(
        source: sourceName, offset: dirStart, structure: structure,
        detail: "size \(dir.size) is smaller than the 40-byte export directory table")
    }
    // The names usually live inside the directory: read it once when all of it is available,
    // else fall back to reading each piece (a missing page then fails only what is on it).
    let whole = dir.size <= 0x100_0000 ? try? read(rva: dir.rva, count: Int(dir.size), structure: structure) : nil
    func bytes(_ rva: UInt32, _ count: Int, _ what: String) throws(PEError) -> PEBytes {
      if let whole, UInt64(rva) >= dirStart, UInt64(rva) + UInt64(count) <= dirEnd {
        let at = Int(UInt64(rva) - dirStart)  // inside the directory
        return PEBytes(
          try whole.slice(at, count), origin: UInt64(rva), source: sourceName, structure: what)
      }
      return try read(rva: rva, count: count, structure: what)
    }
    func string(_ rva: UInt32, _ what: String) throws(PEError) -> String {
      if let whole, UInt64(rva) >= dirStart, UInt64(rva) < dirEnd,
        let text = whole.cString(Int(UInt64(rva) - dirStart), limit: Self.maximumExportNameLength)
      {
        return peText(text)
      }
      return try readCString(rva: rva, limit: Self.maximumExportNameLength, structure: what)
    }

    let table = try bytes(dir.rva, 40, structure)
    let functionCount = try table.u32(20)
    let nameCount = try table.u32(24)
    guard functionCount <= Self.maximumExports else {
      throw table.corrupt(20, "NumberOfFunctions \(functionCount) exceeds the \(Self.maximumExports) ordinals")
    }
    guard nameCount <= Self.maximumExports else {
      throw table.corrupt(24, "NumberOfNames \(nameCount) exceeds the \(Self.maximumExports) ordinals")
    }
    let ordinalBase = try table.u32(16)
    let nameRVA = try table.u32(12)
    let dllName = nameRVA == 0 ? "" : try string(nameRVA, "export DLL name")
    let addresses = try bytes(try table.u32(28), Int(functionCount) * 4, "export address table")
    let namePointers = try bytes(try table.u32(32), Int(nameCount) * 4, "export name pointer table")
    let ordinals = try bytes(try table.u32(36), Int(nameCount) * 2, "export ordinal table")

    var names: [Int: [String]] = [:]
    for i in 0..<Int(nameCount) {
      let index = Int(try ordinals.u16(i * 2))  // i < 2^16
      guard index < Int(functionCount) else {
        throw ordinals.corrupt(i * 2, "ordinal index \(index) is outside the \(functionCount)-entry address table")
      }
      let name = try string(try namePointers.u32(i * 4), "export name #\(i)")
      names[index, default: []].append(name)
    }

    var entries: [PEExport] = []
    for index in 0..<Int(functionCount) {
      let rva = try addresses.u32(index * 4)  // index < 2^16
      let entryNames = names[index] ?? []
      if rva == 0, entryNames.isEmpty { continue }
      let (ordinal, overflow) = ordinalBase.addingReportingOverflow(UInt32(index))
      guard !overflow else { throw table.corrupt(16, "OrdinalBase \(ordinalBase) + \(index) overflows") }
      let isForwarder = UInt64(rva) >= dirStart && UInt64(rva) < dirEnd
      entries.append(
        PEExport(
          ordinal: ordinal, name: entryNames.first, aliases: Array(entryNames.dropFirst()), rva: rva,
          forwarder: isForwarder ? try string(rva, "forwarder of ordinal \(ordinal)") : nil))
    }
    return PEExports(dllName: dllName, ordinalBase: ordinalBase, timeDateStamp: try table.u32(4), entries: entries)
  }
}
