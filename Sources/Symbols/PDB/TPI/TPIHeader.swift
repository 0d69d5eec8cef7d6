// The TPI (and IPI) stream header: version, where type records start and which indices they carry.
// Layout: LLVM "The PDB TPI and IPI Streams" (TpiStreamHeader, 56 bytes).

/// The raw TPI header fields, as stored.
struct TPIHeaderRaw: Sendable {
  static let size = 56
  var version: UInt32
  var headerSize: UInt32
  var typeIndexBegin: UInt32
  var typeIndexEnd: UInt32
  var typeRecordBytes: UInt32
  var hashStreamIndex: UInt16
  var hashAuxStreamIndex: UInt16
  var hashKeySize: UInt32
  var numHashBuckets: UInt32
  var hashValueBufferOffset: Int32
  var hashValueBufferLength: UInt32
  var indexOffsetBufferOffset: Int32
  var indexOffsetBufferLength: UInt32
  var hashAdjBufferOffset: Int32
  var hashAdjBufferLength: UInt32

  init(parsing c: inout PDBCursor) throws(PDBError) {
    version = try c.u32()
    headerSize = try c.u32()
    typeIndexBegin = try c.u32()
    typeIndexEnd = try c.u32()
    typeRecordBytes = try c.u32()
    hashStreamIndex = try c.u16()
    hashAuxStreamIndex = try c.u16()
    hashKeySize = try c.u32()
    numHashBuckets = try c.u32()
    hashValueBufferOffset = try c.i32()
    hashValueBufferLength = try c.u32()
    indexOffsetBufferOffset = try c.i32()
    indexOffsetBufferLength = try c.u32()
    hashAdjBufferOffset = try c.i32()
    hashAdjBufferLength = try c.u32()
  }
}

/// The validated TPI header: record range and index range.
struct TPIHeader: Sendable {
  /// TpiStreamVersion V80, the version every current toolchain writes (V70 … V80 accepted).
  static let v80: UInt32 = 20_040_203
  static let v70: UInt32 = 19_990_903

  let version: UInt32
  let recordsStart: Int
  let recordsEnd: Int
  let typeIndexBegin: UInt32
  let typeIndexEnd: UInt32

  var typeCount: Int { Int(typeIndexEnd &- typeIndexBegin) }  // end ≥ begin: checked at init

  init(bytes: [UInt8], file: String) throws(PDBError) {
    var c = PDBCursor(bytes, file: file, structure: "TPI stream header")
    let raw = try TPIHeaderRaw(parsing: &c)
    guard raw.version >= Self.v70, raw.version <= Self.v80 else {
      throw .unsupported(file: file, what: "TPI stream version \(raw.version)")
    }
    guard raw.headerSize >= UInt32(TPIHeaderRaw.size), raw.headerSize <= UInt32(bytes.count) else {
      throw c.corrupt("header size \(raw.headerSize) (stream has \(bytes.count) bytes)", at: 4)
    }
    let start = Int(raw.headerSize)
    guard Int(raw.typeRecordBytes) <= bytes.count &- start else {
      throw .truncated(
        file: file, structure: "TPI type records", offset: UInt64(start), needed: UInt64(raw.typeRecordBytes),
        available: UInt64(bytes.count &- start))
    }
    guard raw.typeIndexBegin >= 0x1000, raw.typeIndexEnd >= raw.typeIndexBegin else {
      throw c.corrupt("type index range [\(raw.typeIndexBegin), \(raw.typeIndexEnd))", at: 8)
    }
    // Every record takes at least 4 bytes (length + leaf kind).
    let count = UInt64(raw.typeIndexEnd &- raw.typeIndexBegin)
    guard count <= UInt64(raw.typeRecordBytes / 4) else {
      throw .absurdValue(
        file: file, what: "TPI type count", value: count, limit: UInt64(raw.typeRecordBytes / 4))
    }
    version = raw.version
    recordsStart = start
    recordsEnd = start &+ Int(raw.typeRecordBytes)
    typeIndexBegin = raw.typeIndexBegin
    typeIndexEnd = raw.typeIndexEnd
  }
}
