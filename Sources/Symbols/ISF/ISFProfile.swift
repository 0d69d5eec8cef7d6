// A Volatility 3 Intermediate Symbol Format (ISF) symbol table as a KernelProfile: symbols (RVAs),
// user types (structs/unions with fields), enums and base types. The format is Volatility 3's
// (volatility3/schemas/schema-6.*.json; "Creating New Symbol Tables" in its documentation).

import BinaryReading

/// A struct or union of an ISF file, field types still naming base types and enums unresolved.
struct ISFStruct: Sendable {
  var kind: String
  var size: Int
  var fields: [String: FieldInfo]
}

/// An enumeration of an ISF file.
struct ISFEnum: Sendable {
  var size: Int
  var base: String
  var constants: [String: Int64]
}

/// A symbol table read from a Volatility 3 ISF file (`.json`, `.json.xz`, `.json.gz`).
public final class ISFProfile: KernelProfile {
  /// The PDB the file describes (`metadata.windows.pdb`).
  public let identity: PDBIdentity
  /// The file the table was read from.
  public let path: String
  /// `metadata.format`, e.g. `6.1.0`.
  public let formatVersion: String
  /// `metadata.windows.pdb.machine_type` (0x8664 for x64, 0x14c for x86), if present.
  public let machineType: Int?
  let symbolTable: [String: UInt64]
  let structs: [String: ISFStruct]
  let enums: [String: ISFEnum]
  let baseTypeSizes: [String: Int]

  public var source: Provenance { .isf }
  public var sourceDescription: String { path }

  init(
    identity: PDBIdentity, path: String, formatVersion: String, machineType: Int?, symbols: [String: UInt64],
    structs: [String: ISFStruct], enums: [String: ISFEnum], baseTypeSizes: [String: Int]
  ) {
    self.identity = identity
    self.path = path
    self.formatVersion = formatVersion
    self.machineType = machineType
    self.symbolTable = symbols
    self.structs = structs
    self.enums = enums
    self.baseTypeSizes = baseTypeSizes
  }

  /// Reads the ISF file at `path`, decompressing `.xz` and `.gz` files (output capped at 1 GiB).
  public convenience init(path: String) throws(SymbolsError) {
    let bytes = try Decompressor.contents(ofFile: path)
    try self.init(json: bytes, name: path)
  }

  /// Parses an ISF document already in memory; `name` is used in messages and as the source.
  public convenience init(json bytes: [UInt8], name: String) throws(SymbolsError) {
    let parsed: ISFParser.Result
    do {
      parsed = try bytes.withUnsafeBytes { (raw: UnsafeRawBufferPointer) throws -> ISFParser.Result in
        var parser = ISFParser(reader: JSONReader(bytes: raw, file: name))
        return try parser.parseDocument()
      }
    } catch let e as SymbolsError {
      throw e
    } catch {
      throw .io(path: name, message: "\(error)")
    }
    try ISFTypeCycles.check(parsed.structs, file: name)
    self.init(
      identity: parsed.identity, path: name, formatVersion: parsed.format, machineType: parsed.machineType,
      symbols: parsed.symbols, structs: parsed.structs, enums: parsed.enums, baseTypeSizes: parsed.baseTypeSizes)
  }

  public func symbol(_ name: String) -> SymbolInfo? {
    symbolTable[name].map { SymbolInfo(name: name, rva: $0, provenance: .isf) }
  }

  public func structSize(_ name: String) -> Int? { structs[name]?.size }

  public func field(_ structName: String, _ fieldName: String) -> FieldInfo? {
    guard let f = structs[structName]?.fields[fieldName] else { return nil }
    return resolved(f)
  }

  public func enumeration(_ name: String) -> [String: Int64]? { enums[name]?.constants }

  public var symbolNames: [String] { Array(symbolTable.keys) }
  public var structNames: [String] { Array(structs.keys) }

  public func fields(of structName: String) -> [String: FieldInfo]? {
    structs[structName].map { $0.fields.mapValues { resolved($0) } }
  }

  /// Every enumeration name.
  public var enumNames: [String] { Array(enums.keys) }
  /// A base type's size in bytes (`pointer` gives the pointer size).
  public func baseTypeSize(_ name: String) -> Int? { baseTypeSizes[name] }
  /// `struct` or `union` (or `class`) for a user type.
  public func structKind(_ name: String) -> String? { structs[name]?.kind }

  private func resolved(_ f: FieldInfo) -> FieldInfo {
    var f = f
    f.type = resolved(f.type, depth: 0)
    return f
  }

  /// Fills the sizes the parser left as -1 (base types, pointers, enums may be declared after use).
  private func resolved(_ t: FieldType, depth: Int) -> FieldType {
    guard depth < ISFParser.maximumTypeDepth else { return t }
    switch t {
    case .base(let name, let size) where size < 0: return .base(name: name, size: baseTypeSizes[name] ?? 0)
    case .pointer(let to, let size):
      let s = size < 0 ? (baseTypeSizes["pointer"] ?? 8) : size
      return .pointer(to: resolved(to, depth: depth &+ 1), size: s)  // depth < 64
    case .array(let of, let count): return .array(of: resolved(of, depth: depth &+ 1), count: count)
    case .enumeration(let name, let size) where size < 0: return .enumeration(name: name, size: enums[name]?.size ?? 0)
    default: return t
    }
  }
}
