// `KernelProfile` over a PDB file: the identity comes from the info and DBI streams at open; the
// symbol records, section headers and type records are each read on first use, and struct field
// lists are decoded only for the structs asked about (then cached).

import BinaryReading
import Foundation

/// A kernel (or any module) profile answered from a PDB file.
public final class PDBProfile: KernelProfile, @unchecked Sendable {
  // @unchecked: the mutable caches below are only touched under `lock`.
  /// The opened PDB.
  public let pdb: PDBFile
  /// Stream 1.
  public let info: PDBInfoStream
  /// Stream 3.
  public let dbi: DBIStream
  public let identity: PDBIdentity
  public var source: Provenance { .pdb }
  public var sourceDescription: String { pdb.path }

  private let lock = NSLock()
  private var sectionCache: Result<PDBSectionTable, PDBError>?
  private var symbolCache: Result<PDBSymbolTable, PDBError>?
  private var typeCache: Result<PDBTypeTable, PDBError>?
  private var fieldCache: [String: [String: FieldInfo]] = [:]

  /// Opens `path` (memory-mapped) and reads its identity; nothing else is read yet.
  public convenience init(path: String) throws(PDBError) {
    try self.init(pdb: try PDBFile(path: path))
  }

  /// A profile over an opened PDB; `name` overrides the identity's file name (default: the path's last part).
  public init(pdb: PDBFile, name: String? = nil) throws(PDBError) {
    self.pdb = pdb
    info = try PDBInfoStream(bytes: try pdb.stream(.info).readAll(), file: pdb.path)
    dbi = try DBIStream(bytes: try pdb.stream(.dbi).readAll(), file: pdb.path)
    let fileName = name ?? String(pdb.path.split(separator: "/").last ?? Substring(pdb.path))
    // The DBI age is the one the linker last wrote and the image's RSDS record carries.
    identity = PDBIdentity(name: fileName, guid: info.guid, age: dbi.age)
  }

  private func cached<T>(
    _ slot: ReferenceWritableKeyPath<PDBProfile, Result<T, PDBError>?>, _ make: () throws(PDBError) -> T
  ) throws(PDBError) -> T {
    lock.lock()
    defer { lock.unlock() }
    if let r = self[keyPath: slot] { return try r.get() }
    let r: Result<T, PDBError>
    do { r = .success(try make()) } catch { r = .failure(error) }
    self[keyPath: slot] = r
    return try r.get()
  }

  /// The image sections as the PDB recorded them.
  public func sections() throws(PDBError) -> PDBSectionTable {
    try cached(\.sectionCache) { () throws(PDBError) in try PDBSectionTable(pdb: pdb, dbi: dbi) }
  }

  func symbolTable() throws(PDBError) -> PDBSymbolTable {
    try cached(\.symbolCache) { () throws(PDBError) in
      guard let bytes = try pdb.optionalStreamBytes(dbi.symRecordStream) else {
        return try PDBSymbolTable(bytes: [], file: pdb.path, decorateX86: false)
      }
      return try PDBSymbolTable(bytes: bytes, file: pdb.path, decorateX86: dbi.machine == DBIStream.machineI386)
    }
  }

  /// The type records (read and indexed on first use).
  public func types() throws(PDBError) -> PDBTypeTable {
    try cached(\.typeCache) { () throws(PDBError) in
      try PDBTypeTable(bytes: try pdb.stream(.tpi).readAll(), file: pdb.path)
    }
  }

  // MARK: Throwing lookups

  /// Where `name` lives (publics first, then data, then procedures; x86 names also undecorated).
  public func lookupSymbolRecord(_ name: String) throws(PDBError) -> PDBSymbol? {
    let table = try symbolTable()
    if let s = table.symbols[name] { return s }
    if let ref = table.procedures[name] { return try PDBSymbolTable.resolve(ref, name: name, pdb: pdb, dbi: dbi) }
    if let decorated = table.undecorated[name] {
      if let s = table.symbols[decorated] { return s }
      if let ref = table.procedures[decorated] {
        return try PDBSymbolTable.resolve(ref, name: decorated, pdb: pdb, dbi: dbi)
      }
    }
    return nil
  }

  /// A symbol's RVA, or nil when the PDB does not name it; errors for a corrupt PDB.
  public func lookupSymbol(_ name: String) throws(PDBError) -> SymbolInfo? {
    guard let s = try lookupSymbolRecord(name), let rva = try sections().rva(segment: s.segment, offset: s.offset)
    else { return nil }
    return SymbolInfo(name: name, rva: rva, provenance: .pdb)
  }

  /// A struct's or union's size.
  public func lookupStructSize(_ name: String) throws(PDBError) -> Int? {
    try types().aggregate(named: name)?.1.size
  }

  /// Every field of a struct or union (decoded once, then cached).
  public func lookupFields(of structName: String) throws(PDBError) -> [String: FieldInfo]? {
    lock.lock()
    let hit = fieldCache[structName]
    lock.unlock()
    if let hit { return hit }
    guard let members = try types().members(of: structName) else { return nil }
    var d: [String: FieldInfo] = [:]
    for m in members where d[m.name] == nil { d[m.name] = m.info }
    lock.lock()
    fieldCache[structName] = d
    lock.unlock()
    return d
  }

  /// A field of a struct or union.
  public func lookupField(_ structName: String, _ fieldName: String) throws(PDBError) -> FieldInfo? {
    try lookupFields(of: structName)?[fieldName]
  }

  /// An enumeration's constants.
  public func lookupEnumeration(_ name: String) throws(PDBError) -> [String: Int64]? {
    try types().enumerators(of: name)
  }

  /// The value of an S_CONSTANT symbol.
  public func constant(_ name: String) throws(PDBError) -> Int64? { try symbolTable().constants[name] }

  // MARK: KernelProfile

  public func symbol(_ name: String) -> SymbolInfo? { try? lookupSymbol(name) }
  public func structSize(_ name: String) -> Int? { try? lookupStructSize(name) }
  public func field(_ structName: String, _ fieldName: String) -> FieldInfo? {
    try? lookupField(structName, fieldName)
  }
  public func enumeration(_ name: String) -> [String: Int64]? { try? lookupEnumeration(name) }
  public func fields(of structName: String) -> [String: FieldInfo]? { try? lookupFields(of: structName) }

  public var symbolNames: [String] {
    guard let t = try? symbolTable() else { return [] }
    return Array(Set(t.symbols.keys).union(t.procedures.keys)).sorted()
  }

  public var structNames: [String] { (try? types().aggregateNames) ?? [] }
}
