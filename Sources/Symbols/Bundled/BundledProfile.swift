// One kernel build from the bundled profiles as a KernelProfile (provenance `bundled`): the
// catalog's symbols and every field of the catalog's structs, decoded when the build is opened.

import BinaryReading

/// The bundled symbols and struct layouts of one build.
public final class BundledProfile: KernelProfile {
  public let identity: PDBIdentity
  /// The kernel file version, if recorded.
  public let version: String?
  private let symbolTable: [String: UInt64]
  private let structs: [String: (size: Int, fields: [String: FieldInfo])]
  public var source: Provenance { .bundled }
  public var sourceDescription: String { "bundled" }

  init(bundle: BundledProfiles, build: BundledBuild) throws(SymbolsError) {
    identity = build.identity
    version = build.version
    let r = BundleReader(file: bundle.file, path: bundle.path)
    var symbols: [String: UInt64] = [:]
    symbols.reserveCapacity(bundle.symbolNames.count)
    for (i, name) in bundle.symbolNames.enumerated() {
      let rva = try r.u32(at: build.symbolsOffset &+ i &* 4)  // bounds checked when the index was read
      if rva != BundleFormat.none { symbols[name] = UInt64(rva) }
    }
    symbolTable = symbols
    var structs: [String: (size: Int, fields: [String: FieldInfo])] = [:]
    let listAt = build.symbolsOffset &+ bundle.symbolNames.count &* 4
    for i in 0..<build.layoutCount {
      let layout = try r.int(at: listAt &+ i &* 4)
      guard layout < bundle.layoutCount else { throw r.corrupt(listAt, "layout \(layout) of \(bundle.layoutCount)") }
      let rel = try r.int(at: bundle.layoutsOffset &+ layout &* 4)
      let at = try r.checkedOffset(bundle.layoutsOffset, plus: rel, times: 1)
      let name = try Self.string(bundle, try r.int(at: at), r, at)
      let size = try r.int(at: at &+ 8)
      let count = try r.int(at: at &+ 12)
      _ = try r.checkedOffset(at &+ 16, plus: count, times: BundleFormat.fieldRecordSize)
      var fields: [String: FieldInfo] = [:]
      fields.reserveCapacity(count)
      for k in 0..<count {
        let f = at &+ 16 &+ k &* BundleFormat.fieldRecordSize  // within the range checked above
        let fname = try Self.string(bundle, try r.int(at: f), r, f)
        let type = try r.int(at: f &+ 8)
        guard type < bundle.types.count else { throw r.corrupt(f, "field type \(type) of \(bundle.types.count)") }
        let pos = try r.u8(at: f &+ 12)
        let len = try r.u8(at: f &+ 13)
        fields[fname] = FieldInfo(
          offset: try r.int(at: f &+ 4), type: bundle.types[type], bitPosition: pos == 0xFF ? nil : Int(pos),
          bitLength: pos == 0xFF ? nil : Int(len), provenance: .bundled)
      }
      structs[name] = (size, fields)
    }
    self.structs = structs
  }

  private static func string(_ b: BundledProfiles, _ i: Int, _ r: BundleReader, _ at: Int) throws(SymbolsError)
    -> String
  {
    guard i < b.strings.count else { throw r.corrupt(at, "string \(i) of \(b.strings.count)") }
    return b.strings[i]
  }

  public func symbol(_ name: String) -> SymbolInfo? {
    symbolTable[name].map { SymbolInfo(name: name, rva: $0, provenance: .bundled) }
  }
  public func structSize(_ name: String) -> Int? { structs[name]?.size }
  public func field(_ structName: String, _ fieldName: String) -> FieldInfo? { structs[structName]?.fields[fieldName] }
  /// Enumerations are not bundled.
  public func enumeration(_ name: String) -> [String: Int64]? { nil }
  public var symbolNames: [String] { Array(symbolTable.keys) }
  public var structNames: [String] { Array(structs.keys) }
  public func fields(of structName: String) -> [String: FieldInfo]? { structs[structName]?.fields }
}
