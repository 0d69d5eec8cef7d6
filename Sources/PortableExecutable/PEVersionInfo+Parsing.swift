// Parsing of VS_VERSIONINFO (Microsoft Win32 docs: "VS_VERSIONINFO structure", "StringFileInfo",
// "StringTable", "String", "VarFileInfo", "Var", "VS_FIXEDFILEINFO"). Every block is wLength u16,
// wValueLength u16, wType u16 (1 text: value length in WCHARs; 0 binary: in bytes), szKey (UTF-16LE,
// NUL-terminated), padding to a 32-bit boundary, the value, padding to a 32-bit boundary, children.
// Boundaries are counted from the start of VS_VERSIONINFO (which the resource places on a DWORD).

import BinaryReading

/// One block's header fields and where its parts lie in the resource bytes.
private struct VersionBlock {
  let start: Int
  let end: Int
  let type: UInt16
  let key: String
  let valueStart: Int
  let valueEnd: Int
  let childrenStart: Int
}

/// A parse of one version resource's bytes. The bytes are at most 0xFFFF long, so every position
/// and length below is ≤ 0x2_0000: the `&+`, `&-` and `&*` on them cannot overflow.
private struct VersionParser {
  let b: PEBytes
  /// No key in these structures is long; a longer one means garbage.
  static let maximumKeyLength = 256
  /// Bound on the children of one block (each takes at least 8 bytes of a ≤ 64 KiB resource).
  static let maximumChildren = 0x2000

  func align4(_ value: Int) -> Int { (value &+ 3) & ~3 }  // value ≤ 0x1_0000

  /// UTF-16LE text from `start` to its NUL or `end`; the index after the NUL (or `end`).
  func utf16(from start: Int, to end: Int, limit: Int) throws(PEError) -> (String, Int) {
    var units: [UInt16] = []
    var at = start
    while at &+ 1 < end {  // at < end ≤ count
      let unit = try b.u16(at)
      at &+= 2
      if unit == 0 { return (String(decoding: units, as: UTF16.self), at) }
      units.append(unit)
      guard units.count <= limit else { throw b.corrupt(start, "string longer than \(limit) characters") }
    }
    return (String(decoding: units, as: UTF16.self), end)
  }

  /// The block at `start`, which must end by `limit`.
  func block(at start: Int, limit: Int) throws(PEError) -> VersionBlock {
    let length = Int(try b.u16(start))
    let valueLength = Int(try b.u16(start &+ 2))  // start < limit ≤ 0x1_0000
    let type = try b.u16(start &+ 4)
    guard length >= 6, length <= limit &- start else {
      throw b.corrupt(start, "block length \(length) does not fit the \(limit &- start) bytes left in its parent")
    }
    let end = start &+ length
    let (key, keyEnd) = try utf16(from: start &+ 6, to: end, limit: Self.maximumKeyLength)
    let valueStart = min(align4(keyEnd), end)
    let valueBytes = type == 1 ? valueLength &* 2 : valueLength
    // Text values are NUL-terminated, and some writers count wValueLength in bytes: clip to the block.
    let valueEnd = min(valueStart &+ valueBytes, end)
    return VersionBlock(
      start: start, end: end, type: type, key: key, valueStart: valueStart, valueEnd: valueEnd,
      childrenStart: min(align4(valueStart &+ valueBytes), end))
  }

  /// The children of `parent`, each a 32-bit-aligned block inside it.
  func children(of parent: VersionBlock) throws(PEError) -> [VersionBlock] {
    var result: [VersionBlock] = []
    var at = parent.childrenStart
    while at < parent.end {
      guard result.count < Self.maximumChildren else {
        throw b.corrupt(parent.start, "more than \(Self.maximumChildren) children")
      }
      // Trailing padding shorter than a block header is not a child.
      if parent.end &- at < 6 { break }
      let child = try block(at: at, limit: parent.end)
      result.append(child)
      at = align4(child.end)  // child.end > at: lengths are ≥ 6
    }
    return result
  }

  func parse() throws(PEError) -> PEVersionInfo {
    let root = try block(at: 0, limit: b.count)
    guard root.key == "VS_VERSION_INFO" else {
      throw .badSignature(
        source: b.source, offset: b.origin, structure: b.structure, expected: "key \"VS_VERSION_INFO\"",
        found: "\"\(root.key.prefix(40))\"")
    }
    var fixed: PEFixedFileInfo?
    if root.valueEnd &- root.valueStart >= 52 {
      fixed = try fixedFileInfo(at: root.valueStart)
    }
    var tables: [PEStringTable] = []
    var translations: [UInt32] = []
    for child in try children(of: root) {
      switch child.key {
      case "StringFileInfo":
        for table in try children(of: child) {
          var strings: [PEVersionString] = []
          for entry in try children(of: table) {
            let (value, _) = try utf16(from: entry.valueStart, to: entry.valueEnd, limit: 0x8000)
            strings.append(PEVersionString(key: entry.key, value: value))
          }
          tables.append(PEStringTable(key: table.key, strings: strings))
        }
      case "VarFileInfo":
        for variable in try children(of: child) where variable.key == "Translation" {
          var at = variable.valueStart
          while at &+ 4 <= variable.valueEnd {  // valueEnd ≤ count
            translations.append(try b.u32(at))
            at &+= 4
          }
        }
      default:
        continue
      }
    }
    return PEVersionInfo(fixed: fixed, stringTables: tables, translations: translations)
  }

  /// VS_FIXEDFILEINFO at `at`: dwSignature 0, dwStrucVersion 4, file version MS/LS 8/12, product
  /// version MS/LS 16/20, flags mask 24, flags 28, OS 32, type 36, subtype 40, date MS/LS 44/48.
  func fixedFileInfo(at: Int) throws(PEError) -> PEFixedFileInfo {
    let signature = try b.u32(at)
    guard signature == 0xFEEF_04BD else {
      throw .badSignature(
        source: b.source, offset: b.origin &+ UInt64(at), structure: "VS_FIXEDFILEINFO", expected: "0xfeef04bd",
        found: "0x" + String(signature, radix: 16))
    }
    func u32(_ offset: Int) throws(PEError) -> UInt32 { try b.u32(at &+ offset) }  // at < 0x1_0000
    return PEFixedFileInfo(
      fileVersion: PEVersionNumber(ms: try u32(8), ls: try u32(12)),
      productVersion: PEVersionNumber(ms: try u32(16), ls: try u32(20)), fileFlagsMask: try u32(24),
      fileFlags: try u32(28), fileOS: try u32(32), fileType: try u32(36), fileSubtype: try u32(40),
      fileDate: UInt64(try u32(44)) << 32 | UInt64(try u32(48)))
  }
}

extension PEImage {
  /// VS_VERSIONINFO's wLength is 16-bit: no version resource is larger.
  static let maximumVersionInfoSize = 0xFFFF

  /// The first version resource (RT_VERSION), or nil if the image has none.
  public func versionInfo() throws(PEError) -> PEVersionInfo? {
    guard let resource = try resources(type: PEResourceType.version).first else { return nil }
    let count = min(Int(resource.size), Self.maximumVersionInfoSize)
    let bytes = try read(rva: resource.dataRVA, count: count, structure: "VS_VERSIONINFO")
    return try VersionParser(b: bytes).parse()
  }

  /// Parses VS_VERSIONINFO bytes (a version resource's data) on their own.
  public static func parseVersionInfo(_ bytes: [UInt8], sourceName: String = "<memory>") throws(PEError)
    -> PEVersionInfo
  {
    let data = Array(bytes.prefix(maximumVersionInfoSize))
    return try VersionParser(b: PEBytes(data, origin: 0, source: sourceName, structure: "VS_VERSIONINFO")).parse()
  }
}
