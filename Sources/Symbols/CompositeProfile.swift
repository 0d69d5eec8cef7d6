// Several profiles of the same PDB asked in order (explicit files, the symbol path and cache,
// bundled, downloaded): each answer comes from the first profile that has it and keeps that
// profile's provenance.

/// Profiles combined in lookup order.
public final class CompositeProfile: KernelProfile {
  /// The profiles, first asked first.
  public let profiles: [any KernelProfile]
  public let identity: PDBIdentity
  /// Things worth telling the user (a file skipped for a wrong GUID, a failed download …).
  public let notes: [String]

  public init(identity: PDBIdentity, profiles: [any KernelProfile], notes: [String] = []) {
    self.identity = identity
    self.profiles = profiles
    self.notes = notes
  }

  /// The first profile's provenance (`bundled` when only the bundle answered).
  public var source: Provenance { profiles.first?.source ?? .bundled }
  public var sourceDescription: String { profiles.map(\.sourceDescription).joined(separator: ", ") }

  public func symbol(_ name: String) -> SymbolInfo? {
    for p in profiles { if let s = p.symbol(name) { return s } }
    return nil
  }
  public func structSize(_ name: String) -> Int? {
    for p in profiles { if let s = p.structSize(name) { return s } }
    return nil
  }
  public func field(_ structName: String, _ fieldName: String) -> FieldInfo? {
    for p in profiles { if let f = p.field(structName, fieldName) { return f } }
    return nil
  }
  public func enumeration(_ name: String) -> [String: Int64]? {
    for p in profiles { if let e = p.enumeration(name) { return e } }
    return nil
  }
  public var symbolNames: [String] { Array(Set(profiles.flatMap(\.symbolNames))) }
  public var structNames: [String] { Array(Set(profiles.flatMap(\.structNames))) }
  /// The fields of the first profile that knows the struct.
  public func fields(of structName: String) -> [String: FieldInfo]? {
    for p in profiles { if let f = p.fields(of: structName) { return f } }
    return nil
  }
}
