// Struct layouts declared from public headers and write-ups rather than read from a symbol file
// (wdm.h records, the undocumented callback blocks): the last layer of a kernel's merged profile,
// so they answer only for the types and members its symbol files lack.

/// A profile of declared struct layouts and nothing else (no symbols, no enumerations).
public final class DeclaredLayoutProfile: KernelProfile {
  /// One declared struct: its size and the byte offset of each member.
  public struct Layout: Sendable {
    public let name: String
    public let size: Int
    public let offsets: [String: Int]

    public init(name: String, size: Int, offsets: [String: Int]) {
      self.name = name
      self.size = size
      self.offsets = offsets
    }
  }

  public let identity: PDBIdentity
  /// The declarations by struct name.
  public let layouts: [String: Layout]
  public let sourceDescription: String

  /// `layouts` later in the list replace earlier ones of the same name.
  public init(identity: PDBIdentity, layouts: [Layout], description: String) {
    self.identity = identity
    var byName: [String: Layout] = [:]
    for layout in layouts { byName[layout.name] = layout }
    self.layouts = byName
    self.sourceDescription = description
  }

  public var source: Provenance { .declared }
  public func symbol(_ name: String) -> SymbolInfo? { nil }
  public func structSize(_ name: String) -> Int? { layouts[name]?.size }
  public func field(_ structName: String, _ fieldName: String) -> FieldInfo? {
    guard let offset = layouts[structName]?.offsets[fieldName] else { return nil }
    return FieldInfo(offset: offset, type: .unknown("declared"), provenance: .declared)
  }
  public func enumeration(_ name: String) -> [String: Int64]? { nil }
  public var symbolNames: [String] { [] }
  public var structNames: [String] { Array(layouts.keys) }
  public func fields(of structName: String) -> [String: FieldInfo]? {
    layouts[structName].map { layout in
      layout.offsets.mapValues { FieldInfo(offset: $0, type: .unknown("declared"), provenance: .declared) }
    }
  }
}
