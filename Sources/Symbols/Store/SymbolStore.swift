// Finding a PDB's symbols on the symbol path: symbol stores (`<pdb>/<GUID><AGE>/<pdb>` and the
// compressed `<pdb>/<GUID><AGE>/<pd_>`, the layout of Microsoft's SymStore — Microsoft Learn,
// "SymStore"), folders of PDBs, Volatility 3 symbol folders and explicit files; and downloading
// from symbol servers into the cache, verified and written atomically.

import Foundation

/// A symbol file found for a PDB: which reader opens it.
public enum SymbolFileLocation: Sendable, Hashable, CustomStringConvertible {
  /// A PDB file (opened by the PDB reader).
  case pdb(String)
  /// A Volatility 3 ISF file (`.json`, `.json.xz`, `.json.gz`).
  case isf(String)

  /// The file's path.
  public var path: String {
    switch self {
    case .pdb(let p), .isf(let p): return p
    }
  }
  public var description: String { path }
}

/// Looks PDBs up on a symbol path and downloads them from its servers.
public struct SymbolStore: Sendable {
  public var path: SymbolPath
  /// Forbids every network access.
  public var offline: Bool
  public var fetcher: HTTPFetcher
  /// Reads the identity of a PDB file (default: `PDBFileIdentity.read`).
  public var verify: @Sendable (String) throws -> PDBIdentity
  /// Prints download progress on stderr (default: only when stderr is a terminal).
  public var showProgress: Bool

  public init(
    path: SymbolPath, offline: Bool, fetcher: HTTPFetcher = HTTPFetcher(),
    verify: @escaping @Sendable (String) throws -> PDBIdentity = { try PDBFileIdentity.read(path: $0) },
    showProgress: Bool = isatty(2) != 0
  ) {
    self.path = path
    self.offline = offline
    self.fetcher = fetcher
    self.verify = verify
    self.showProgress = showProgress
  }

  /// True if `found` is the PDB `wanted` names (GUID and age; names compared case-insensitively).
  public static func matches(_ found: PDBIdentity, _ wanted: PDBIdentity) -> Bool {
    found.guid.uppercased() == wanted.guid.uppercased() && found.age == wanted.age
  }

  private func verified(_ file: String, _ id: PDBIdentity) -> Bool {
    guard let found = try? verify(file) else { return false }
    return Self.matches(found, id)
  }

  /// `<pdb>_`: the compressed name symbol stores use (`ntkrnlmp.pd_`).
  static func compressedName(_ name: String) -> String { String(name.dropLast()) + "_" }

  /// Every local file for `id`, in symbol-path order. PDBs are verified; explicit ISF files are
  /// returned for the caller to check once opened. A `.pd_` is expanded into the cache first.
  public func findLocal(_ id: PDBIdentity) throws(SymbolsError) -> [SymbolFileLocation] {
    try SymbolFileName.validate(id)
    let fm = FileManager.default
    var out: [SymbolFileLocation] = []
    func add(_ l: SymbolFileLocation) { if !out.contains(l) { out.append(l) } }
    for element in path.localElements {
      switch element {
      case .file(let f):
        if f.lowercased().hasSuffix(".pdb") {
          if verified(f, id) { add(.pdb(f)) }
        } else if fm.fileExists(atPath: f) {
          add(.isf(f))
        }
      case .directory, .server: break
      }
    }
    for dir in path.searchedDirectories {
      let folder = "\(dir)/\(id.name)/\(id.symstoreKey)"
      let stored = "\(folder)/\(id.name)"
      if fm.fileExists(atPath: stored), verified(stored, id) { add(.pdb(stored)) }
      let packed = "\(folder)/\(Self.compressedName(id.name))"
      if fm.fileExists(atPath: packed), let expanded = try? expand(packed, id) { add(.pdb(expanded)) }
      if let isf = try ISFDirectory.find(root: dir, identity: id) { add(.isf(isf)) }
      let flat = "\(dir)/\(id.name)"
      if fm.fileExists(atPath: flat), verified(flat, id) { add(.pdb(flat)) }
    }
    return out
  }

  /// The cache folder of `id` under `cache`, checked to stay inside it.
  func cacheFolder(_ cache: String, _ id: PDBIdentity) throws(SymbolsError) -> String {
    try SymbolFileName.validate(id)
    let root = URL(fileURLWithPath: cache).standardizedFileURL.path
    let folder = URL(fileURLWithPath: "\(root)/\(id.name)/\(id.symstoreKey)").standardizedFileURL.path
    guard folder.hasPrefix(root + "/") else { throw .unsafeName(id.name, reason: "would leave the cache") }
    return folder
  }

  /// Expands a `.pd_` next to the default cache's copy, verifies it, and returns the PDB's path.
  func expand(_ packed: String, _ id: PDBIdentity) throws(SymbolsError) -> String {
    let folder = try cacheFolder(path.defaultCache, id)
    let target = "\(folder)/\(id.name)"
    if FileManager.default.fileExists(atPath: target), verified(target, id) { return target }
    let bytes = try Decompressor.contents(ofFile: packed)
    let (_, data) = try Cabinet.extractFirstFile(bytes, name: packed)
    return try install(Data(data), as: target, id: id, source: packed)
  }

  /// Writes `data` to a temporary file beside `target`, verifies the PDB identity, then renames it
  /// into place; a mismatch deletes the temporary file and throws.
  func install(_ data: Data, as target: String, id: PDBIdentity, source: String) throws(SymbolsError) -> String {
    let folder = (target as NSString).deletingLastPathComponent
    do {
      try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    } catch {
      throw .io(path: folder, message: "cannot create the cache folder: \(error.localizedDescription)")
    }
    let temp = "\(folder)/.callscope-\(UUID().uuidString).tmp"
    guard FileManager.default.createFile(atPath: temp, contents: data) else {
      throw .io(path: temp, message: "cannot write the downloaded file")
    }
    let found: PDBIdentity
    do {
      found = try verify(temp)
    } catch {
      try? FileManager.default.removeItem(atPath: temp)
      if let e = error as? SymbolsError { throw e }
      throw .corruptPDB(file: source, offset: 0, message: "\(error)")
    }
    guard Self.matches(found, id) else {
      try? FileManager.default.removeItem(atPath: temp)
      throw .identityMismatch(file: source, expected: id, found: found)
    }
    guard rename(temp, target) == 0 else {
      try? FileManager.default.removeItem(atPath: temp)
      throw .io(path: target, message: "cannot rename the downloaded file into place")
    }
    return target
  }

  /// Downloads `id` from the path's servers (plain, then `.pd_`) into their caches.
  public func download(_ id: PDBIdentity) throws(SymbolsError) -> SymbolFileLocation {
    try SymbolFileName.validate(id)
    guard !offline else { throw .offline(id) }
    var tried: [String] = []
    var lastError: SymbolsError?
    for (server, cache) in path.servers {
      let base = server.hasSuffix("/") ? String(server.dropLast()) : server
      let target = "\(try cacheFolder(cache, id))/\(id.name)"
      for (file, packed) in [(id.name, false), (Self.compressedName(id.name), true)] {
        let url = "\(base)/\(id.name)/\(id.symstoreKey)/\(file)"
        tried.append(url)
        if showProgress { FileHandle.standardError.write(Data("callscope: downloading \(url) …\n".utf8)) }
        do {
          let response = try fetcher.get(url)
          if response.status == 404 { continue }
          guard (200..<300).contains(response.status) else {
            throw SymbolsError.httpStatus(url: url, status: response.status)
          }
          var body = response.body
          if packed {
            let (_, data) = try Cabinet.extractFirstFile([UInt8](body), name: url)
            body = Data(data)
          }
          if showProgress { FileHandle.standardError.write(Data("callscope: \(body.count) bytes\n".utf8)) }
          return .pdb(try install(body, as: target, id: id, source: url))
        } catch let e as SymbolsError {
          lastError = e
          break
        } catch {
          lastError = .network(url: url, message: "\(error)")
          break
        }
      }
    }
    throw lastError ?? .notFound(id, searched: tried)
  }
}
