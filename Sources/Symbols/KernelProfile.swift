// The one question-answering interface over every symbol source (PDB, ISF, bundled, patterns):
// "address of symbol X" and "offset of field F in struct S", each answer with its provenance.

import BinaryReading

/// Where an answer came from.
public enum Provenance: String, Sendable, Codable, CaseIterable {
  case pdb, isf, bundled, pattern
  /// An address read from the kernel's export table (no symbol file).
  case export
  /// A struct layout declared from public headers or write-ups (types no symbol file describes).
  case declared
}

/// A PDB's identity as the RSDS debug record names it: the key of every symbol store.
public struct PDBIdentity: Sendable, Hashable, Codable, CustomStringConvertible {
  /// File name, e.g. `ntkrnlmp.pdb`.
  public var name: String
  /// 32 uppercase hex digits in symbol-store order (Data1..Data4 as printed by the GUID form).
  public var guid: String
  public var age: UInt32

  public init(name: String, guid: String, age: UInt32) {
    self.name = name
    self.guid = guid.uppercased()
    self.age = age
  }

  /// `GUID-AGE` as Volatility 3 names its ISF files (`3177D3…E374-1`).
  public var isfKey: String { "\(guid)-\(age)" }
  /// `GUIDAGE` with the age in hex, as symbol stores name the folder (`3177D3…E3741`).
  public var symstoreKey: String { guid + String(age, radix: 16, uppercase: true) }
  public var description: String { "\(name) \(guid)-\(age)" }

  /// The store-order GUID string from the 16 raw bytes of an RSDS record or PDB info stream
  /// (Data1, Data2, Data3 little-endian, Data4 as bytes).
  public static func guidString(fromRaw b: [UInt8]) -> String? {
    guard b.count == 16 else { return nil }
    let order = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15]
    return Hex.upper(order.map { b[$0] })
  }
}

/// The type of a field, enough to read it.
public indirect enum FieldType: Sendable, Hashable {
  /// A base type by name (`unsigned long`, `void`, …) and its size in bytes.
  case base(name: String, size: Int)
  /// A pointer of `size` bytes to `pointee`.
  case pointer(to: FieldType, size: Int)
  /// `count` elements of `element`.
  case array(of: FieldType, count: Int)
  /// A struct or union by name.
  case structure(name: String)
  /// An enumeration by name, stored in `size` bytes.
  case enumeration(name: String, size: Int)
  /// A function (the target of function pointers).
  case function
  /// A type the source described in a way we do not model.
  case unknown(String)
}

/// A member of a struct: offset, type and, for bitfields, bit position and length.
public struct FieldInfo: Sendable, Hashable {
  public var offset: Int
  public var type: FieldType
  public var bitPosition: Int?
  public var bitLength: Int?
  public var provenance: Provenance

  public init(offset: Int, type: FieldType, bitPosition: Int? = nil, bitLength: Int? = nil, provenance: Provenance) {
    self.offset = offset
    self.type = type
    self.bitPosition = bitPosition
    self.bitLength = bitLength
    self.provenance = provenance
  }
}

/// A symbol's address relative to the image base, and where it came from.
public struct SymbolInfo: Sendable, Hashable {
  public var name: String
  public var rva: UInt64
  public var provenance: Provenance
  public init(name: String, rva: UInt64, provenance: Provenance) {
    self.name = name
    self.rva = rva
    self.provenance = provenance
  }
}

/// A kernel's (or any module's) symbols and types, whatever the source.
public protocol KernelProfile: Sendable {
  /// The PDB this profile describes.
  var identity: PDBIdentity { get }
  /// Where this profile's answers come from (a composite reports each answer's own).
  var source: Provenance { get }
  /// A short human description of the source (`bundled`, a file path, …).
  var sourceDescription: String { get }

  /// A symbol's RVA.
  func symbol(_ name: String) -> SymbolInfo?
  /// A struct's or union's size in bytes.
  func structSize(_ name: String) -> Int?
  /// A field of a struct or union.
  func field(_ structName: String, _ fieldName: String) -> FieldInfo?
  /// An enumeration's constants.
  func enumeration(_ name: String) -> [String: Int64]?

  /// Every symbol name (for listings); may be large.
  var symbolNames: [String] { get }
  /// Every struct/union name (for listings).
  var structNames: [String] { get }
  /// Every field of a struct (for listings).
  func fields(of structName: String) -> [String: FieldInfo]?
}

extension KernelProfile {
  /// A field's offset, or nil.
  public func offset(_ structName: String, _ fieldName: String) -> Int? { field(structName, fieldName)?.offset }
}
