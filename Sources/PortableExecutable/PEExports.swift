// The exports of an image: the DLL name, the ordinal base and one entry per exported address,
// with the names that refer to it and the forwarder string when the export is forwarded.

/// One exported address (an export address table slot that is in use).
public struct PEExport: Sendable, Equatable {
  /// The ordinal: OrdinalBase + index in the export address table.
  public let ordinal: UInt32
  /// The first name (in name-table order) that refers to this ordinal, or nil if exported by ordinal only.
  public let name: String?
  /// Further names that refer to the same ordinal.
  public let aliases: [String]
  /// The RVA in the export address table (for a forwarder, the RVA of its string).
  public let rva: UInt32
  /// `"DLL.Function"` or `"DLL.#12"` when the RVA lies inside the export directory.
  public let forwarder: String?

  /// Builds an entry from its parts.
  public init(ordinal: UInt32, name: String?, aliases: [String], rva: UInt32, forwarder: String?) {
    self.ordinal = ordinal
    self.name = name
    self.aliases = aliases
    self.rva = rva
    self.forwarder = forwarder
  }

  /// Whether this export is forwarded to another DLL.
  public var isForwarder: Bool { forwarder != nil }
}

/// The export directory of an image.
public struct PEExports: Sendable, Equatable {
  /// The name the DLL gives itself (Name RVA of the export directory table).
  public let dllName: String
  /// OrdinalBase: the ordinal of the first export address table slot.
  public let ordinalBase: UInt32
  /// TimeDateStamp of the export directory table.
  public let timeDateStamp: UInt32
  /// Exported addresses in ordinal order; unused slots (RVA 0, no name) are left out.
  public let entries: [PEExport]
  private let indexByName: [String: Int]
  private let indexByOrdinal: [UInt32: Int]

  /// The exports of an image without an export directory.
  public static let none = PEExports(dllName: "", ordinalBase: 0, timeDateStamp: 0, entries: [])

  /// Builds the lookup tables; with duplicate names the first entry wins.
  public init(dllName: String, ordinalBase: UInt32, timeDateStamp: UInt32, entries: [PEExport]) {
    self.dllName = dllName
    self.ordinalBase = ordinalBase
    self.timeDateStamp = timeDateStamp
    self.entries = entries
    var byName: [String: Int] = [:]
    var byOrdinal: [UInt32: Int] = [:]
    for (i, entry) in entries.enumerated() {
      for name in [entry.name].compactMap({ $0 }) + entry.aliases where byName[name] == nil { byName[name] = i }
      if byOrdinal[entry.ordinal] == nil { byOrdinal[entry.ordinal] = i }
    }
    self.indexByName = byName
    self.indexByOrdinal = byOrdinal
  }

  /// The export with this name (exact, case-sensitive), or nil.
  public func entry(named name: String) -> PEExport? {
    indexByName[name].map { entries[$0] }
  }

  /// The export with this ordinal, or nil.
  public func entry(ordinal: UInt32) -> PEExport? {
    indexByOrdinal[ordinal].map { entries[$0] }
  }

  /// The RVA exported under `name`, or nil (forwarders included: their RVA is that of the string).
  public func rva(of name: String) -> UInt32? { entry(named: name)?.rva }
}
