// The DBI stream (stream 3): header (age, global/public/symbol-record stream numbers, machine),
// module list (for S_PROCREF), section map, and the optional debug header's stream numbers.
// Layout: LLVM "The DBI Stream" (DbiStreamHeader, Module Info Substream, Section Map Substream,
// Optional Debug Header Stream); substreams follow the 64-byte header in the order of their sizes.

import BinaryReading

/// The raw DBI header fields, as stored (64 bytes).
struct DBIHeaderRaw: Sendable {
  static let size = 64
  var versionSignature: Int32
  var versionHeader: UInt32
  var age: UInt32
  var globalStreamIndex: UInt16
  var buildNumber: UInt16
  var publicStreamIndex: UInt16
  var pdbDllVersion: UInt16
  var symRecordStream: UInt16
  var pdbDllRbld: UInt16
  var modInfoSize: Int32
  var sectionContributionSize: Int32
  var sectionMapSize: Int32
  var sourceInfoSize: Int32
  var typeServerMapSize: Int32
  var mfcTypeServerIndex: UInt32
  var optionalDbgHeaderSize: Int32
  var ecSubstreamSize: Int32
  var flags: UInt16
  var machine: UInt16
  var padding: UInt32

  init(parsing c: inout PDBCursor) throws(PDBError) {
    versionSignature = try c.i32()
    versionHeader = try c.u32()
    age = try c.u32()
    globalStreamIndex = try c.u16()
    buildNumber = try c.u16()
    publicStreamIndex = try c.u16()
    pdbDllVersion = try c.u16()
    symRecordStream = try c.u16()
    pdbDllRbld = try c.u16()
    modInfoSize = try c.i32()
    sectionContributionSize = try c.i32()
    sectionMapSize = try c.i32()
    sourceInfoSize = try c.i32()
    typeServerMapSize = try c.i32()
    mfcTypeServerIndex = try c.u32()
    optionalDbgHeaderSize = try c.i32()
    ecSubstreamSize = try c.i32()
    flags = try c.u16()
    machine = try c.u16()
    padding = try c.u32()
  }
}

/// One module (object file) of the DBI module list: only what symbol lookup needs.
public struct DBIModule: Sendable, Hashable {
  /// Stream holding the module's symbols (0xFFFF: none).
  public let symbolStream: UInt16
  /// Bytes of CodeView symbols at the start of that stream (after its 4-byte signature).
  public let symbolByteSize: UInt32
  public let name: String
}

/// One entry of the DBI section map (segment descriptor).
public struct DBISectionMapEntry: Sendable, Hashable {
  public let flags: UInt16
  public let frame: UInt16
  public let offset: UInt32
  public let length: UInt32
}

/// Stream numbers from the optional debug header (index in the header → meaning).
public struct DBIDebugStreams: Sendable, Hashable {
  public var fpo: UInt16 = 0xFFFF
  public var omapToSource: UInt16 = 0xFFFF
  public var omapFromSource: UInt16 = 0xFFFF
  public var sectionHeaders: UInt16 = 0xFFFF
  public var originalSectionHeaders: UInt16 = 0xFFFF
}

/// The validated DBI stream.
public struct DBIStream: Sendable {
  /// DbiStreamVersion V70 (the only one written since VC 7.0; older ones are accepted if the header is new-style).
  public static let v70: UInt32 = 19_990_903
  /// IMAGE_FILE_MACHINE_I386.
  public static let machineI386: UInt16 = 0x014C

  public let versionHeader: UInt32
  /// The age the linker last wrote: the one that matches the image's RSDS record.
  public let age: UInt32
  public let globalStreamIndex: UInt16
  public let publicStreamIndex: UInt16
  public let symRecordStream: UInt16
  public let machine: UInt16
  public let modules: [DBIModule]
  public let sectionMap: [DBISectionMapEntry]
  public let debugStreams: DBIDebugStreams

  /// Parses stream 3's bytes.
  init(bytes: [UInt8], file: String) throws(PDBError) {
    var c = PDBCursor(bytes, file: file, structure: "DBI stream")
    let raw = try DBIHeaderRaw(parsing: &c)
    guard raw.versionSignature == -1 else {
      throw .unsupported(file: file, what: "DBI stream with old-style header (signature \(raw.versionSignature))")
    }
    versionHeader = raw.versionHeader
    age = raw.age
    globalStreamIndex = raw.globalStreamIndex
    publicStreamIndex = raw.publicStreamIndex
    symRecordStream = raw.symRecordStream
    machine = raw.machine

    // Substream sizes, in on-disk order; each non-negative and together inside the stream.
    let sizes: [(String, Int32)] = [
      ("module info", raw.modInfoSize), ("section contribution", raw.sectionContributionSize),
      ("section map", raw.sectionMapSize), ("source info", raw.sourceInfoSize),
      ("type server map", raw.typeServerMapSize), ("EC", raw.ecSubstreamSize),
      ("optional debug header", raw.optionalDbgHeaderSize),
    ]
    var starts: [Int] = []
    var at = DBIHeaderRaw.size
    for (name, s) in sizes {
      guard s >= 0, Int(s) <= bytes.count &- at else {
        throw .truncated(
          file: file, structure: "DBI \(name) substream", offset: UInt64(at), needed: UInt64(UInt32(bitPattern: s)),
          available: UInt64(bytes.count &- at))
      }
      starts.append(at)
      at &+= Int(s)  // ≤ bytes.count, checked above
    }
    modules = try Self.parseModules(bytes, file: file, start: starts[0], size: Int(raw.modInfoSize))
    sectionMap = try Self.parseSectionMap(bytes, file: file, start: starts[2], size: Int(raw.sectionMapSize))
    debugStreams = try Self.parseDebugHeader(bytes, file: file, start: starts[6], size: Int(raw.optionalDbgHeaderSize))
  }

  /// Module info records: 64 fixed bytes, two names, aligned to 4.
  private static func parseModules(_ b: [UInt8], file: String, start: Int, size: Int) throws(PDBError) -> [DBIModule] {
    var c = PDBCursor(b, file: file, structure: "DBI module info substream", offset: start, end: start &+ size)
    var out: [DBIModule] = []
    while c.remaining > 0 {
      guard out.count < size / 64 else { throw c.corrupt("more module records than fit") }
      try c.skip(4 &+ 28 &+ 2)  // Unused1, SectionContribEntry, Flags
      let stream = try c.u16()
      let symBytes = try c.u32()
      try c.skip(4 &+ 4 &+ 2 &+ 2 &+ 4 &+ 4 &+ 4)  // C11, C13, file count, pad, unused, name indices
      let name = try c.cString()
      try c.skipCString()  // object file name
      let misalign = (c.offset &- start) % 4
      if misalign != 0 { try c.skip(min(4 &- misalign, c.remaining)) }
      out.append(DBIModule(symbolStream: stream, symbolByteSize: symBytes, name: name))
    }
    return out
  }

  /// Section map: u16 count, u16 log count, then 20-byte SecMapEntry records.
  private static func parseSectionMap(
    _ b: [UInt8], file: String, start: Int, size: Int
  ) throws(PDBError) -> [DBISectionMapEntry] {
    guard size > 0 else { return [] }
    var c = PDBCursor(b, file: file, structure: "DBI section map", offset: start, end: start &+ size)
    let count = Int(try c.u16())
    _ = try c.u16()
    guard count &* 20 <= c.remaining else {
      throw .absurdValue(
        file: file, what: "section map entry count", value: UInt64(count), limit: UInt64(c.remaining / 20))
    }
    var out: [DBISectionMapEntry] = []
    for _ in 0..<count {
      let flags = try c.u16()
      _ = try c.u16()  // Ovl
      _ = try c.u16()  // Group
      let frame = try c.u16()
      _ = try c.u16()  // SectionName
      _ = try c.u16()  // ClassName
      let offset = try c.u32()
      let length = try c.u32()
      out.append(DBISectionMapEntry(flags: flags, frame: frame, offset: offset, length: length))
    }
    return out
  }

  /// Optional debug header: u16 stream numbers (FPO, exception, fixup, OMAP to/from source,
  /// section headers, token/RID map, xdata, pdata, new FPO, original section headers).
  private static func parseDebugHeader(
    _ b: [UInt8], file: String, start: Int, size: Int
  ) throws(PDBError) -> DBIDebugStreams {
    var c = PDBCursor(b, file: file, structure: "DBI optional debug header", offset: start, end: start &+ size)
    var slots: [UInt16] = []
    while c.remaining >= 2, slots.count < 11 { slots.append(try c.u16()) }
    func slot(_ i: Int) -> UInt16 { i < slots.count ? slots[i] : 0xFFFF }
    var d = DBIDebugStreams()
    d.fpo = slot(0)
    d.omapToSource = slot(3)
    d.omapFromSource = slot(4)
    d.sectionHeaders = slot(5)
    d.originalSectionHeaders = slot(10)
    return d
  }
}
