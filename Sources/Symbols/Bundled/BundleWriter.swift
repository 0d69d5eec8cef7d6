// Builds the bundled-profile file (BundleFormat.swift) from Volatility 3 ISF files: for each build,
// the catalog's symbols and every field of the catalog's structs; identical layouts stored once.

import BinaryReading

/// Accumulates builds and writes the bundled-profile file.
public struct BundleWriter {
  private var strings: [String] = []
  private var stringIndex: [String: UInt32] = [:]
  private var types: [[UInt8]] = []
  private var typeIndex: [FieldType: UInt32] = [:]
  private var layouts: [[UInt8]] = []
  private var layoutIndex: [[UInt8]: UInt32] = [:]
  private var builds: [[UInt8]] = []
  private var seen: Set<String> = []
  private let symbolCatalog: [String]
  private let structCatalog: [String]

  /// A writer keeping `symbols` and every field of `structs` (defaults: `BundledCatalog`).
  public init(symbols: [String] = BundledCatalog.symbols, structs: [String] = BundledCatalog.structs) {
    self.symbolCatalog = symbols
    self.structCatalog = structs
  }

  /// How many builds were added.
  public var buildCount: Int { builds.count }

  private mutating func string(_ s: String) throws(SymbolsError) -> UInt32 {
    if let i = stringIndex[s] { return i }
    guard s.utf8.count <= Int(UInt16.max) else { throw .tooLarge(file: "bundle", what: "a name", limit: 65_535) }
    let i = UInt32(strings.count)
    strings.append(s)
    stringIndex[s] = i
    return i
  }

  private mutating func type(_ t: FieldType, depth: Int = 0) throws(SymbolsError) -> UInt32 {
    if let i = typeIndex[t] { return i }
    guard depth < 64 else { throw .unsupported(file: "bundle", what: "type nested deeper than 64") }
    var rec: [UInt8]
    func u32(_ v: Int) -> UInt32 { UInt32(clamping: v) }
    switch t {
    case .base(let name, let size): rec = record(.base, try string(name), u32(size))
    case .pointer(let to, let size): rec = record(.pointer, try type(to, depth: depth &+ 1), u32(size))
    case .array(let of, let count): rec = record(.array, try type(of, depth: depth &+ 1), u32(count))
    case .structure(let name): rec = record(.structure, try string(name), 0)
    case .enumeration(let name, let size): rec = record(.enumeration, try string(name), u32(size))
    case .function: rec = record(.function, 0, 0)
    case .unknown(let text): rec = record(.unknown, try string(text), 0)
    }
    let i = UInt32(types.count)
    types.append(rec)
    typeIndex[t] = i
    return i
  }

  private func record(_ kind: BundleFormat.TypeKind, _ a: UInt32, _ b: UInt32) -> [UInt8] {
    var r: [UInt8] = [kind.rawValue, 0, 0, 0]
    r.append(le: a)
    r.append(le: b)
    return r
  }

  /// The catalog structs of `profile` plus the anonymous types they embed by value.
  private func structsToKeep(_ profile: any KernelProfile) -> [String] {
    var keep: [String] = []
    var queue = structCatalog.filter { profile.structSize($0) != nil }
    var seen = Set(queue)
    var steps = 0
    while let name = queue.popLast(), steps < 100_000 {
      steps &+= 1
      keep.append(name)
      for f in (profile.fields(of: name) ?? [:]).values {
        var t = f.type
        while case .array(let of, _) = t { t = of }
        if case .structure(let inner) = t, BundledCatalog.isAnonymous(inner), !seen.contains(inner),
          profile.structSize(inner) != nil
        {
          seen.insert(inner)
          queue.append(inner)
        }
      }
    }
    return keep.sorted()
  }

  /// Adds one build; `version` is the file version shown by `symbols list` (e.g. `10.0.22000.318`).
  public mutating func add(_ profile: any KernelProfile, version: String?, machine: Int? = nil) throws(SymbolsError) {
    let id = profile.identity
    guard seen.insert("\(id.name.lowercased())/\(id.isfKey)").inserted else { return }
    var b: [UInt8] = []
    b.append(le: try string(id.name))
    b.append(le: try string(id.guid))
    b.append(le: id.age)
    b.append(le: try version.map { (v: String) throws(SymbolsError) in try string(v) } ?? BundleFormat.none)
    b.append(le: UInt32(clamping: machine ?? 0))
    var layoutIds: [UInt32] = []
    for name in structsToKeep(profile) {
      guard let size = profile.structSize(name), let fields = profile.fields(of: name) else { continue }
      var rec: [UInt8] = []
      rec.append(le: try string(name))
      rec.append(le: try string((profile as? ISFProfile)?.structKind(name) ?? "struct"))
      rec.append(le: UInt32(clamping: size))
      rec.append(le: UInt32(fields.count))
      for (fname, f) in fields.sorted(by: { ($0.value.offset, $0.key) < ($1.value.offset, $1.key) }) {
        rec.append(le: try string(fname))
        guard let off = UInt32(exactly: f.offset) else { throw .unsupported(file: id.description, what: "offset") }
        rec.append(le: off)
        rec.append(le: try type(f.type))
        rec.append(UInt8(clamping: f.bitPosition ?? 0xFF))
        rec.append(UInt8(clamping: f.bitLength ?? 0))
        rec.append(contentsOf: [0, 0])
      }
      if let i = layoutIndex[rec] {
        layoutIds.append(i)
      } else {
        let i = UInt32(layouts.count)
        layouts.append(rec)
        layoutIndex[rec] = i
        layoutIds.append(i)
      }
    }
    b.append(le: UInt32(layoutIds.count))
    for s in symbolCatalog {
      if let rva = profile.symbol(s)?.rva {
        guard rva < UInt64(BundleFormat.none) else {
          throw .unsupported(file: id.description, what: "RVA \(Hex.format(rva)) of \(s) beyond 32 bits")
        }
        b.append(le: UInt32(rva))
      } else {
        b.append(le: BundleFormat.none)
      }
    }
    for i in layoutIds { b.append(le: i) }
    builds.append(b)
  }

  /// The complete file.
  public mutating func serialize() throws(SymbolsError) -> [UInt8] {
    var symbolIds: [UInt32] = []
    for s in symbolCatalog { symbolIds.append(try string(s)) }
    var stringBlob: [UInt8] = []
    for s in strings {
      stringBlob.append(le: UInt16(s.utf8.count))
      stringBlob.append(contentsOf: s.utf8)
    }
    let typeBlob = types.flatMap { $0 }
    var layoutBlob: [UInt8] = []
    var at = layouts.count * 4
    for l in layouts {
      layoutBlob.append(le: UInt32(clamping: at))
      at += l.count
    }
    for l in layouts { layoutBlob.append(contentsOf: l) }
    var symbolBlob: [UInt8] = []
    for i in symbolIds { symbolBlob.append(le: i) }
    let buildBlob = builds.flatMap { $0 }

    var out = BundleFormat.magic
    out.append(le: BundleFormat.version)
    var offset = BundleFormat.headerSize
    let sections: [(Int, [UInt8])] = [
      (strings.count, stringBlob), (types.count, typeBlob), (layouts.count, layoutBlob),
      (symbolIds.count, symbolBlob), (builds.count, buildBlob),
    ]
    for (count, blob) in sections {
      out.append(le: UInt32(clamping: count))
      out.append(le: UInt32(clamping: offset))
      offset += blob.count
    }
    guard offset < Int(UInt32.max) else { throw .tooLarge(file: "bundle", what: "bundle", limit: UInt64(UInt32.max)) }
    out.append(le: UInt32(offset))
    for (_, blob) in sections { out.append(contentsOf: blob) }
    return out
  }
}

extension [UInt8] {
  /// Appends `v` in little-endian byte order.
  mutating func append<T: FixedWidthInteger>(le v: T) {
    Swift.withUnsafeBytes(of: v.littleEndian) { append(contentsOf: $0) }
  }
}
