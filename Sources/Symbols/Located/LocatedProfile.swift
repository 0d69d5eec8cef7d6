// The profile of a kernel no symbol file matches: struct layouts lent by a profile of the same (or
// the nearest older) release, addresses only from the image's exports and code (LocatedSymbol).
// The lender's own symbol RVAs are never answered: they belong to another build.

/// Layouts from a lending profile, symbols from the locators.
public final class LocatedProfile: KernelProfile {
  public let identity: PDBIdentity
  /// The profile whose struct layouts are used (a bundled build of the same release).
  public let layouts: any KernelProfile
  /// Which build lent the layouts and why it was chosen (`10.0.19041.1415 (same release)`).
  public let layoutSource: String
  /// Located symbols by name.
  public let located: [String: LocatedSymbol]
  /// Symbols searched for and not found, by name.
  public let failures: [String: LocatorFailure]

  public init(
    identity: PDBIdentity, layouts: any KernelProfile, layoutSource: String, located: [LocatedSymbol],
    failures: [LocatorFailure]
  ) {
    self.identity = identity
    self.layouts = layouts
    self.layoutSource = layoutSource
    var byName: [String: LocatedSymbol] = [:]
    for symbol in located { byName[symbol.name] = symbol }
    self.located = byName
    var failed: [String: LocatorFailure] = [:]
    for failure in failures where byName[failure.name] == nil { failed[failure.name] = failure }
    self.failures = failed
  }

  public var source: Provenance { .pattern }
  public var sourceDescription: String { "exports and code patterns; layouts from \(layoutSource)" }

  public func symbol(_ name: String) -> SymbolInfo? {
    located[name].map { SymbolInfo(name: $0.name, rva: $0.rva, provenance: $0.provenance) }
  }
  public func structSize(_ name: String) -> Int? { layouts.structSize(name) }
  public func field(_ structName: String, _ fieldName: String) -> FieldInfo? { layouts.field(structName, fieldName) }
  public func enumeration(_ name: String) -> [String: Int64]? { layouts.enumeration(name) }
  public var symbolNames: [String] { Array(located.keys) }
  public var structNames: [String] { layouts.structNames }
  public func fields(of structName: String) -> [String: FieldInfo]? { layouts.fields(of: structName) }
}

/// Layouts of one profile without any of its symbols: what the locators validate shapes with
/// before any address of this build is known.
public final class LayoutOnlyProfile: KernelProfile {
  public let identity: PDBIdentity
  public let layouts: any KernelProfile
  /// Symbols already known for this build (exports), answered with their own provenance.
  public let known: [String: SymbolInfo]
  /// A candidate answered before `known` (the locators' trial of one address), kept apart so a
  /// trial does not copy the whole table.
  public let trial: SymbolInfo?

  public convenience init(identity: PDBIdentity, layouts: any KernelProfile, known: [SymbolInfo]) {
    var byName: [String: SymbolInfo] = [:]
    for s in known { byName[s.name] = s }
    self.init(identity: identity, layouts: layouts, byName: byName)
  }

  /// A profile over a table already keyed by name, with `trial` answered first.
  public init(identity: PDBIdentity, layouts: any KernelProfile, byName: [String: SymbolInfo], trial: SymbolInfo? = nil)
  {
    self.identity = identity
    self.layouts = layouts
    self.known = byName
    self.trial = trial
  }

  public var source: Provenance { .export }
  public var sourceDescription: String { "exports; layouts from \(layouts.identity.isfKey)" }
  public func symbol(_ name: String) -> SymbolInfo? {
    if let trial, trial.name == name { return trial }
    return known[name]
  }
  public func structSize(_ name: String) -> Int? { layouts.structSize(name) }
  public func field(_ structName: String, _ fieldName: String) -> FieldInfo? { layouts.field(structName, fieldName) }
  public func enumeration(_ name: String) -> [String: Int64]? { layouts.enumeration(name) }
  public var symbolNames: [String] {
    guard let trial, known[trial.name] == nil else { return Array(known.keys) }
    return Array(known.keys) + [trial.name]
  }
  public var structNames: [String] { layouts.structNames }
  public func fields(of structName: String) -> [String: FieldInfo]? { layouts.fields(of: structName) }
}
