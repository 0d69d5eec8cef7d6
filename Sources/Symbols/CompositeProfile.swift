// Several profiles of the same PDB asked in order (explicit files, the symbol path and cache,
// bundled, downloaded, and last the declared layouts of types no symbol file describes): each
// answer comes from the first profile that has it and keeps that profile's provenance. This is the
// one place profiles are merged: the symbol loader and the callbacks layer both build one here.

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

  /// `layers` merged in order, a composite among them flattened into its own layers (so a merged
  /// profile merged again with declared layouts is still one flat list); its notes are kept.
  public static func merging(_ layers: [any KernelProfile], identity: PDBIdentity) -> CompositeProfile {
    var flat: [any KernelProfile] = []
    var notes: [String] = []
    for layer in layers {
      if let composite = layer as? CompositeProfile {
        flat += composite.profiles
        notes += composite.notes
      } else {
        flat.append(layer)
      }
    }
    return CompositeProfile(identity: identity, profiles: flat, notes: notes)
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
