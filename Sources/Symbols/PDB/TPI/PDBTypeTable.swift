// The TPI stream loaded for lookups: one pass over the record headers gives each type index's
// offset and a name → index map of UDT definitions; records themselves are decoded on demand.
// Layout: LLVM "The PDB TPI and IPI Streams" (records follow the header, indices count up from
// TypeIndexBegin, each record a u16 length then the u16 leaf kind).

/// The type records of a PDB, indexed by type index and by UDT name.
public struct PDBTypeTable: Sendable {
  let file: String
  let bytes: [UInt8]
  let header: TPIHeader
  /// Offset of each record's length field, by (index − TypeIndexBegin).
  let offsets: [UInt32]
  /// Struct/class/union/interface definitions (not forward references) by name; first one wins.
  let aggregatesByName: [String: UInt32]
  /// Enum definitions by name.
  let enumsByName: [String: UInt32]
  /// All UDT definitions by unique (decorated) name, for resolving forward references.
  let definitionsByUniqueName: [String: UInt32]
  /// Struct/class/union names in index order.
  public let aggregateNames: [String]

  /// Indexes the TPI stream's bytes.
  init(bytes: [UInt8], file: String) throws(PDBError) {
    self.file = file
    self.bytes = bytes
    let h = try TPIHeader(bytes: bytes, file: file)
    header = h
    var offsets: [UInt32] = []
    offsets.reserveCapacity(h.typeCount)
    var aggregates: [String: UInt32] = [:]
    var enums: [String: UInt32] = [:]
    var unique: [String: UInt32] = [:]
    var names: [String] = []
    var at = h.recordsStart
    var index = h.typeIndexBegin
    for _ in 0..<h.typeCount {
      guard h.recordsEnd &- at >= 4 else {
        throw .truncated(
          file: file, structure: "TPI record \(Self.hex(index))", offset: UInt64(at), needed: 4,
          available: UInt64(h.recordsEnd &- at))
      }
      let length = Int(bytes[at]) | Int(bytes[at &+ 1]) << 8  // at + 4 ≤ recordsEnd ≤ count
      let kind = UInt16(bytes[at &+ 2]) | UInt16(bytes[at &+ 3]) << 8
      let recordEnd = at &+ 2 &+ length  // length < 2^16: cannot overflow
      guard length >= 2, recordEnd <= h.recordsEnd else {
        throw .corrupt(
          file: file, structure: "TPI record \(Self.hex(index))", offset: UInt64(at),
          message: "length \(length) runs past the type records' end \(Self.hex(UInt32(h.recordsEnd)))")
      }
      offsets.append(UInt32(at))  // at ≤ stream size ≤ file size, checked < 2^32 by the MSF directory
      if LeafKind.isUDT(kind) {
        var c = PDBCursor(
          bytes, file: file, structure: "TPI record \(Self.hex(index))", offset: at &+ 4, end: recordEnd)
        let (property, name, uniqueName) = try TypeRecord.udtHeader(&c, kind: kind)
        if property & TypeProperty.forwardReference == 0 {
          if kind == LeafKind.enumeration {
            if enums[name] == nil { enums[name] = index }
          } else if aggregates[name] == nil {
            aggregates[name] = index
            names.append(name)
          }
          if let uniqueName, unique[uniqueName] == nil { unique[uniqueName] = index }
        }
      }
      at = recordEnd
      index &+= 1  // < typeIndexEnd ≤ UInt32.max
    }
    self.offsets = offsets
    aggregatesByName = aggregates
    enumsByName = enums
    definitionsByUniqueName = unique
    aggregateNames = names
  }

  static func hex(_ v: UInt32) -> String { "0x" + String(v, radix: 16) }

  /// Whether `index` names a record of this stream (not a simple type).
  func contains(_ index: UInt32) -> Bool { index >= header.typeIndexBegin && index < header.typeIndexEnd }

  /// Decodes the record of `index`.
  func record(_ index: UInt32) throws(PDBError) -> TypeRecord {
    guard contains(index) else {
      throw .typeIndexOutOfRange(
        file: file, index: index, begin: header.typeIndexBegin, end: header.typeIndexEnd)
    }
    let at = Int(offsets[Int(index &- header.typeIndexBegin)])  // in range: contains(index)
    let length = Int(bytes[at]) | Int(bytes[at &+ 1]) << 8  // validated by the index pass
    var c = PDBCursor(
      bytes, file: file, structure: "TPI record \(Self.hex(index))", offset: at &+ 2, end: at &+ 2 &+ length)
    return try TypeRecord(parsing: &c)
  }

  /// The members of a field list, following LF_INDEX continuations (cycle-safe).
  func fieldList(_ index: UInt32) throws(PDBError) -> FieldListContents {
    var all = FieldListContents()
    var next: UInt32? = index
    var seen: Set<UInt32> = []
    while let i = next {
      guard seen.insert(i).inserted else { throw .typeCycle(file: file, index: i, depth: seen.count) }
      guard case .fieldList(let start, let end) = try record(i) else {
        throw .corrupt(
          file: file, structure: "TPI record \(Self.hex(i))", offset: UInt64(offsets[Int(i &- header.typeIndexBegin)]),
          message: "expected LF_FIELDLIST")
      }
      var c = PDBCursor(bytes, file: file, structure: "field list \(Self.hex(i))", offset: start, end: end)
      let part = try FieldListParser.parse(&c)
      all.members += part.members
      all.enumerators += part.enumerators
      next = part.continuation
    }
    return all
  }
}
