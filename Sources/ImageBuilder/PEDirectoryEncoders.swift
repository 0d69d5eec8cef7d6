// Encoders for the PE data directories the builder emits. Each produces the bytes of its blob for
// a given RVA (the blob's size never depends on where it lands). Layouts from the Microsoft PE/COFF
// specification: §6.3 export directory, §6.1.1 debug directory, §6.5 exception table (x64
// RUNTIME_FUNCTION), §6.9 resource tree; CodeView RSDS from Microsoft's "Debug Interface Access"
// / PDB documentation as summarised by LLVM (llvm/Object/CVDebugRecord.h names the same fields).

/// The encoders; `resolve` turns a location into an RVA.
enum PEDirectoryEncoders {
  /// IMAGE_EXPORT_DIRECTORY, address table, name pointers (sorted), ordinals, then the strings.
  static func exports(
    _ exports: [PEBuilder.Export], dllName: String, ordinalBase: UInt32, timeDateStamp: UInt32, at rva: UInt32,
    resolve: (PEBuilder.Location) throws -> UInt32
  ) throws -> (bytes: [UInt8], named: [String: UInt32], ordinals: [String: UInt32]) {
    // Assign ordinals: explicit ones first, then the next free ordinal in list order.
    var used = Set(exports.compactMap(\.ordinal))
    var next = ordinalBase
    var assigned: [(PEBuilder.Export, UInt32)] = []
    for export in exports {
      if let ordinal = export.ordinal {
        guard ordinal >= ordinalBase else {
          throw ImageBuilderError.invalid("export ordinal \(ordinal) below base \(ordinalBase)")
        }
        assigned.append((export, ordinal))
      } else {
        while used.contains(next) { next += 1 }
        used.insert(next)
        assigned.append((export, next))
      }
    }
    let functionCount = assigned.map(\.1).max().map { Int($0 - ordinalBase) + 1 } ?? 0  // every ordinal ≥ base
    guard functionCount <= 0x1_0000 else {
      throw ImageBuilderError.invalid("export ordinals span \(functionCount) slots")
    }
    let named = assigned.filter { $0.0.name != nil }.sorted {
      Array(($0.0.name ?? "").utf8).lexicographicallyPrecedes(Array(($1.0.name ?? "").utf8))
    }
    guard Set(named.compactMap(\.0.name)).count == named.count else {
      throw ImageBuilderError.invalid("duplicate export names")
    }

    let eatOffset = 40
    let namePointersOffset = eatOffset + 4 * functionCount
    let ordinalTableOffset = namePointersOffset + 4 * named.count
    var strings = ByteBuffer()
    let stringsOffset = ordinalTableOffset + 2 * named.count
    func addString(_ text: String) -> UInt32 {
      let at = UInt32(stringsOffset + strings.count) + rva
      strings.appendASCII(text)
      return at
    }
    let dllNameRVA = addString(dllName)
    var nameRVAs: [UInt32] = []
    for (export, _) in named { nameRVAs.append(addString(export.name ?? "")) }
    var eat = [UInt32](repeating: 0, count: functionCount)
    var rvaByName: [String: UInt32] = [:]
    var ordinalByName: [String: UInt32] = [:]
    for (export, ordinal) in assigned {
      let target: UInt32
      switch export.target {
      case .location(let location): target = try resolve(location)
      case .forwarder(let text): target = addString(text)
      }
      eat[Int(ordinal - ordinalBase)] = target
      if let name = export.name {
        rvaByName[name] = target
        ordinalByName[name] = ordinal
      }
    }
    var out = ByteBuffer()
    out.append(UInt32(0))  // Characteristics
    out.append(timeDateStamp)
    out.append(UInt32(0))  // MajorVersion, MinorVersion
    out.append(dllNameRVA)
    out.append(ordinalBase)
    out.append(UInt32(functionCount))
    out.append(UInt32(named.count))
    out.append(rva + UInt32(eatOffset))
    out.append(rva + UInt32(namePointersOffset))
    out.append(rva + UInt32(ordinalTableOffset))
    for target in eat { out.append(target) }
    for nameRVA in nameRVAs { out.append(nameRVA) }
    for (_, ordinal) in named { out.append(UInt16(ordinal - ordinalBase)) }
    out.append(strings.bytes)
    return (out.bytes, rvaByName, ordinalByName)
  }

  /// One IMAGE_DEBUG_DIRECTORY (type 2, CODEVIEW) followed by its RSDS record.
  static func debugDirectory(_ codeView: PEBuilder.CodeView, timeDateStamp: UInt32, at rva: UInt32, fileOffset: UInt32)
    throws -> [UInt8]
  {
    guard codeView.guid.count == 16 else { throw ImageBuilderError.invalid("CodeView GUID must be 16 bytes") }
    var record = ByteBuffer()
    record.append(UInt32(0x5344_5352))  // 'RSDS'
    record.append(codeView.guid)
    record.append(codeView.age)
    record.appendASCII(codeView.pdbName)
    var out = ByteBuffer()
    out.append(UInt32(0))  // Characteristics
    out.append(timeDateStamp)
    out.append(UInt32(0))  // MajorVersion, MinorVersion
    out.append(UInt32(2))  // IMAGE_DEBUG_TYPE_CODEVIEW
    out.append(UInt32(record.count))
    out.append(rva + 28)  // AddressOfRawData
    out.append(fileOffset + 28)  // PointerToRawData
    out.append(record.bytes)
    return out.bytes
  }

  /// RUNTIME_FUNCTION entries (BeginAddress, EndAddress, UnwindInfoAddress), sorted by start.
  static func exceptionTable(_ ranges: [(UInt32, UInt32)], unwindInfoRVA: UInt32) -> [UInt8] {
    var out = ByteBuffer()
    for (begin, end) in ranges.sorted(by: { $0.0 < $1.0 }) {
      out.append(begin)
      out.append(end)
      out.append(unwindInfoRVA)
    }
    return out.bytes
  }

  /// The smallest UNWIND_INFO: version 1, no flags, no prologue, no unwind codes.
  static let emptyUnwindInfo: [UInt8] = [0x01, 0x00, 0x00, 0x00]

  /// A resource tree holding one RT_VERSION (16) resource, name ID 1, language 0x0409.
  static func versionResource(_ version: PEBuilder.VersionInfo, at rva: UInt32) throws -> [UInt8] {
    let blob = try VersionResourceEncoder.encode(version)
    var out = ByteBuffer()
    func directory(entryID: UInt32, target: UInt32) {
      out.append(UInt32(0))  // Characteristics
      out.append(UInt32(0))  // TimeDateStamp
      out.append(UInt32(0))  // MajorVersion, MinorVersion
      out.append(UInt16(0))  // NumberOfNamedEntries
      out.append(UInt16(1))  // NumberOfIdEntries
      out.append(entryID)
      out.append(target)
    }
    directory(entryID: 16, target: 0x8000_0000 | 24)  // type RT_VERSION → subdirectory at 24
    directory(entryID: 1, target: 0x8000_0000 | 48)  // name 1 → subdirectory at 48
    directory(entryID: 0x0409, target: 72)  // language → data entry at 72
    out.append(rva + 88)  // IMAGE_RESOURCE_DATA_ENTRY.OffsetToData (an RVA)
    out.append(UInt32(blob.count))
    out.append(UInt32(0))  // CodePage
    out.append(UInt32(0))  // Reserved
    out.append(blob)
    return out.bytes
  }
}
