// Field offsets found in the data (LayoutDerivation) laid over lent layouts: a kernel whose
// release is not bundled keeps the nearest older release's layouts except where the data showed
// that a field the kernel model needs has moved.

/// One field offset found in memory, with how it was found.
public struct DerivedField: Sendable, Hashable, CustomStringConvertible {
  /// The struct, e.g. `_EPROCESS`.
  public let structName: String
  /// The member, e.g. `UniqueProcessId`.
  public let field: String
  /// The offset from the start of `structName`.
  public let offset: Int
  /// What the data showed at that offset (the values read and the checks they passed).
  public let evidence: String

  /// A field of `structName` found at `offset`, `evidence` saying how.
  public init(structName: String, field: String, offset: Int, evidence: String) {
    self.structName = structName
    self.field = field
    self.offset = offset
    self.evidence = evidence
  }

  public var description: String {
    "\(structName).\(field) +0x\(String(offset, radix: 16)) (derived: \(evidence))"
  }
}

/// Lent layouts with some fields replaced by offsets derived from the data.
public final class DerivedLayoutProfile: KernelProfile {
  /// The lent layouts asked for everything not derived.
  public let base: any KernelProfile
  /// The derived fields, in the order they were found.
  public let derived: [DerivedField]
  private let byKey: [String: DerivedField]

  /// `derived` answered before `base` (one entry per struct and field; a later one replaces an earlier).
  public init(base: any KernelProfile, derived: [DerivedField]) {
    self.base = base
    self.derived = derived
    var keyed: [String: DerivedField] = [:]
    for d in derived { keyed[Self.key(d.structName, d.field)] = d }
    byKey = keyed
  }

  private static func key(_ structName: String, _ field: String) -> String { structName + "." + field }

  public var identity: PDBIdentity { base.identity }
  public var source: Provenance { base.source }
  public var sourceDescription: String {
    "\(base.sourceDescription) with \(derived.map { "\($0.structName).\($0.field)" }.joined(separator: ", ")) derived"
  }

  public func symbol(_ name: String) -> SymbolInfo? { base.symbol(name) }
  public func structSize(_ name: String) -> Int? { base.structSize(name) }
  public func field(_ structName: String, _ fieldName: String) -> FieldInfo? {
    let lent = base.field(structName, fieldName)
    guard let d = byKey[Self.key(structName, fieldName)] else { return lent }
    // The type is the lent one (the field's type does not change with its place); the offset is the data's.
    return FieldInfo(
      offset: d.offset, type: lent?.type ?? .unknown("derived"), bitPosition: lent?.bitPosition,
      bitLength: lent?.bitLength, provenance: .pattern)
  }
  public func enumeration(_ name: String) -> [String: Int64]? { base.enumeration(name) }
  public var symbolNames: [String] { base.symbolNames }
  public var structNames: [String] { base.structNames }
  public func fields(of structName: String) -> [String: FieldInfo]? {
    guard var all = base.fields(of: structName) else { return nil }
    for d in derived where d.structName == structName {
      if let f = field(structName, d.field) { all[d.field] = f }
    }
    return all
  }
}
