// The index of the bundled-profile file (BundleFormat.swift): which builds it holds, and the
// shared strings and types; one build's layouts are decoded only when that build is opened.

import BinaryReading
import Foundation

/// One build in the bundle, as `symbols list` shows it.
public struct BundledBuild: Sendable, Hashable {
  public var identity: PDBIdentity
  /// File version of the kernel, when the bundle records it (`10.0.22000.318`).
  public var version: String?
  /// PE machine type (0x8664 for x64), 0 when unknown.
  public var machine: UInt32
  /// Offset of this build's RVA table in the file.
  let symbolsOffset: Int
  let layoutCount: Int
}

/// The bundled profiles: a memory-mapped file with an index by PDB name, GUID and age.
public final class BundledProfiles: Sendable {
  /// The file read.
  public let path: String
  /// Every build, in file order.
  public let builds: [BundledBuild]
  let file: MappedFile
  let strings: [String]
  let types: [FieldType]
  let layoutCount: Int
  let layoutsOffset: Int
  let symbolNames: [String]
  private let byKey: [String: Int]

  /// The bundle shipped with CallScope (the `Symbols` target's resource), opened once.
  public static func shipped() throws(SymbolsError) -> BundledProfiles {
    switch shippedResult {
    case .success(let b): return b
    case .failure(let e): throw e
    }
  }

  private static let shippedResult: Result<BundledProfiles, SymbolsError> = {
    let candidates = shippedCandidates()
    guard let path = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
      return .failure(.io(path: candidates.first ?? BundleFormat.resourceName, message: "bundled profiles not found"))
    }
    return Result { () throws(SymbolsError) -> BundledProfiles in try BundledProfiles(path: path) }
  }()

  /// Where the shipped file may be: `$CALLSCOPE_BUNDLED_PROFILES`, SwiftPM's resource bundle beside
  /// the executable (`CallScope_Symbols.resources` on Linux, `.bundle` on macOS), then the source
  /// tree. `Bundle.module` is not used: its accessor traps when the bundle is missing.
  static func shippedCandidates() -> [String] {
    var out: [String] = []
    if let env = ProcessInfo.processInfo.environment["CALLSCOPE_BUNDLED_PROFILES"], !env.isEmpty { out.append(env) }
    var dirs = [Bundle.main.bundleURL]
    if let exe = Bundle.main.executableURL { dirs.append(exe.deletingLastPathComponent()) }
    for dir in dirs {
      for bundle in [
        "CallScope_Symbols.resources", "CallScope_Symbols.bundle", "CallScope_Symbols.bundle/Contents/Resources",
      ] {
        let root = dir.appendingPathComponent(bundle)
        out.append(root.appendingPathComponent("Resources/\(BundleFormat.resourceName)").path)
        out.append(root.appendingPathComponent(BundleFormat.resourceName).path)
      }
    }
    let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    out.append(source.appendingPathComponent("Resources/\(BundleFormat.resourceName)").path)
    return out
  }

  private static func key(_ name: String, _ guid: String, _ age: UInt32) -> String {
    "\(name.lowercased())/\(guid.uppercased())-\(age)"
  }

  /// Opens and validates the index of a bundled-profile file.
  public init(path: String) throws(SymbolsError) {
    self.path = path
    do { file = try MappedFile(path: path) } catch { throw .read(error) }
    let r = BundleReader(file: file, path: path)
    guard try r.bytes(at: 0, count: 8) == BundleFormat.magic else {
      throw .corruptBundle(file: path, offset: 0, message: "bad magic (expected `CSPROF\\0\\1`)")
    }
    let version = try r.u32(at: 8)
    guard version == BundleFormat.version else {
      throw .unsupported(
        file: path, what: "bundle format version \(version) (this build reads \(BundleFormat.version))")
    }
    var sections: [(count: Int, offset: Int)] = []
    for i in 0..<5 {
      sections.append((try r.int(at: 12 &+ i &* 8), try r.int(at: 16 &+ i &* 8)))
    }
    guard try r.u32(at: 52) == UInt32(truncatingIfNeeded: file.size) else {
      throw .corruptBundle(file: path, offset: 52, message: "recorded size differs from the file size \(file.size)")
    }
    // Strings.
    var strings: [String] = []
    var at = sections[0].offset
    strings.reserveCapacity(min(sections[0].count, Int(file.size) / 2))
    for _ in 0..<sections[0].count {
      let n = Int(try r.u16(at: at))
      strings.append(String(decoding: try r.bytes(at: at &+ 2, count: n), as: UTF8.self))  // at, n < 2^32
      at = at &+ 2 &+ n
    }
    self.strings = strings
    // Types: children precede parents, so one forward pass resolves them.
    var types: [FieldType] = []
    types.reserveCapacity(min(sections[1].count, Int(file.size) / BundleFormat.typeRecordSize))
    for i in 0..<sections[1].count {
      let base = try r.checkedOffset(sections[1].offset, plus: i, times: BundleFormat.typeRecordSize)
      let kind = try r.u8(at: base)
      let a = try r.int(at: base &+ 4)
      let b = try r.int(at: base &+ 8)
      func str() throws(SymbolsError) -> String {
        guard a < strings.count else { throw r.corrupt(base, "type \(i) names string \(a) of \(strings.count)") }
        return strings[a]
      }
      func child() throws(SymbolsError) -> FieldType {
        guard a < types.count else { throw r.corrupt(base, "type \(i) refers to type \(a), not an earlier one") }
        return types[a]
      }
      switch BundleFormat.TypeKind(rawValue: kind) {
      case .base: types.append(.base(name: try str(), size: b))
      case .pointer: types.append(.pointer(to: try child(), size: b))
      case .array: types.append(.array(of: try child(), count: b))
      case .structure: types.append(.structure(name: try str()))
      case .enumeration: types.append(.enumeration(name: try str(), size: b))
      case .function: types.append(.function)
      case .unknown: types.append(.unknown(try str()))
      case nil: throw r.corrupt(base, "type \(i) has unknown kind \(kind)")
      }
    }
    self.types = types
    layoutCount = sections[2].count
    layoutsOffset = sections[2].offset
    _ = try r.checkedOffset(layoutsOffset, plus: layoutCount, times: 4)
    // Symbol catalog.
    var names: [String] = []
    for i in 0..<sections[3].count {
      let s = try r.int(at: try r.checkedOffset(sections[3].offset, plus: i, times: 4))
      guard s < strings.count else { throw r.corrupt(sections[3].offset, "symbol \(i) names string \(s)") }
      names.append(strings[s])
    }
    symbolNames = names
    // Builds.
    var builds: [BundledBuild] = []
    var byKey: [String: Int] = [:]
    at = sections[4].offset
    for i in 0..<sections[4].count {
      let ids = try (0..<6).map { (k: Int) throws(SymbolsError) -> Int in try r.int(at: at &+ k &* 4) }
      guard ids[0] < strings.count, ids[1] < strings.count, ids[3] < strings.count || ids[3] == Int(BundleFormat.none),
        let age = UInt32(exactly: ids[2])
      else { throw r.corrupt(at, "build \(i) names strings out of range") }
      let identity = PDBIdentity(name: strings[ids[0]], guid: strings[ids[1]], age: age)
      let version = ids[3] < strings.count ? strings[ids[3]] : nil
      let symbolsOffset = at &+ 24
      let layoutsAt = try r.checkedOffset(symbolsOffset, plus: names.count, times: 4)
      let end = try r.checkedOffset(layoutsAt, plus: ids[5], times: 4)
      guard end <= Int(file.size) else { throw r.corrupt(at, "build \(i) runs past the end of the file") }
      builds.append(
        BundledBuild(
          identity: identity, version: version, machine: UInt32(truncatingIfNeeded: ids[4]),
          symbolsOffset: symbolsOffset, layoutCount: ids[5]))
      byKey[Self.key(identity.name, identity.guid, identity.age)] = i
      at = end
    }
    self.builds = builds
    self.byKey = byKey
  }

  /// The build with this identity, if bundled.
  public func build(for identity: PDBIdentity) -> BundledBuild? {
    byKey[Self.key(identity.name, identity.guid, identity.age)].flatMap { $0 < builds.count ? builds[$0] : nil }
  }

  /// The profile of a bundled build, or nil if the bundle does not hold it.
  public func profile(for identity: PDBIdentity) throws(SymbolsError) -> BundledProfile? {
    guard let b = build(for: identity) else { return nil }
    return try BundledProfile(bundle: self, build: b)
  }
}
