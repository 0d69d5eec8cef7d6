// The CodeView record a CodeView debug entry points to: the PDB's identity. Layouts (Microsoft
// PE Format, "Debug Type", and the public descriptions of the CodeView debug info formats):
// RSDS = 'RSDS' u32, GUID (16 bytes, Data1 u32 LE, Data2 u16 LE, Data3 u16 LE, Data4 8 bytes), Age u32,
// PDB path (NUL-terminated UTF-8); NB10 = 'NB10' u32, Offset u32, Signature u32, Age u32, PDB path.

import BinaryReading

/// The PDB reference of an image (what a symbol server is asked for).
public struct CodeViewRecord: Sendable, Equatable {
  /// The two record formats.
  public enum Format: Sendable, Equatable {
    /// PDB 7.0: identified by a GUID and an age.
    case rsds
    /// PDB 2.0: identified by a 32-bit signature (a timestamp) and an age.
    case nb10
  }

  /// RSDS or NB10.
  public let format: Format
  /// The GUID's 16 bytes as stored (RSDS); empty for NB10.
  public let guid: [UInt8]
  /// The NB10 signature; 0 for RSDS.
  public let signature: UInt32
  /// The PDB age.
  public let age: UInt32
  /// The PDB path recorded by the linker (often a build machine's absolute path).
  public let pdbPath: String

  /// RSDS: 32 uppercase hex digits in symbol-store order (Data1, Data2, Data3 as numbers, i.e.
  /// byte-swapped from storage, then Data4 as stored). NB10: the signature as 8 hex digits.
  public var guidString: String {
    switch format {
    case .nb10:
      return Self.hex(signature, digits: 8)
    case .rsds:
      guard guid.count == 16 else { return Hex.upper(guid) }
      let reordered = [guid[3], guid[2], guid[1], guid[0], guid[5], guid[4], guid[7], guid[6]] + guid[8..<16]
      return Hex.upper(Array(reordered))
    }
  }

  /// The symbol-store key: `guidString` followed by the age in uppercase hex without padding.
  public var symbolStoreKey: String { guidString + String(age, radix: 16, uppercase: true) }

  /// The last component of `pdbPath` (after the last `\` or `/`); not sanitised: check it before using it as a path.
  public var pdbFileName: String {
    String(pdbPath.split(omittingEmptySubsequences: false) { $0 == "\\" || $0 == "/" }.last ?? "")
  }

  /// Builds a record from its parts.
  public init(format: Format, guid: [UInt8], signature: UInt32, age: UInt32, pdbPath: String) {
    self.format = format
    self.guid = guid
    self.signature = signature
    self.age = age
    self.pdbPath = pdbPath
  }

  private static func hex(_ value: UInt32, digits: Int) -> String {
    let s = String(value, radix: 16, uppercase: true)
    return String(repeating: "0", count: max(0, digits - s.count)) + s
  }
}

extension CodeViewRecord {
  /// Parses a record from the debug data bytes.
  init(parsing b: PEBytes) throws(PEError) {
    let magic = try b.u32(0)
    switch magic {
    case 0x5344_5352:  // 'RSDS'
      let guid = try b.slice(4, 16)
      let age = try b.u32(20)  // the path follows at 24 and ends at its NUL or the data's end
      self.init(format: .rsds, guid: guid, signature: 0, age: age, pdbPath: Self.path(b, at: 24))
    case 0x3031_424E:  // 'NB10'
      let signature = try b.u32(8)
      let age = try b.u32(12)
      self.init(format: .nb10, guid: [], signature: signature, age: age, pdbPath: Self.path(b, at: 16))
    default:
      throw .unsupported(
        source: b.source, offset: b.origin, structure: b.structure,
        detail: "CodeView signature 0x\(String(magic, radix: 16)) (only RSDS and NB10 are read)")
    }
  }

  /// The path at `at`: up to its NUL, or to the end of the data if the NUL is missing.
  private static func path(_ b: PEBytes, at: Int) -> String {
    guard at < b.count else { return "" }
    return peText(Array(b.bytes[at...].prefix { $0 != 0 }))  // at < count
  }
}

extension PEImage {
  /// A CodeView record is a header and a path: 64 KiB is far more than any path.
  static let maximumCodeViewSize = 0x1_0000

  /// The first CodeView (RSDS or NB10) record of the debug directory, or nil if there is none.
  public func codeView() throws(PEError) -> CodeViewRecord? {
    guard let entry = try debugDirectory().first(where: { $0.type == PEDebugType.codeView }) else { return nil }
    let data = try debugData(entry, limit: Self.maximumCodeViewSize, structure: "CodeView record")
    return try CodeViewRecord(parsing: data)
  }
}
