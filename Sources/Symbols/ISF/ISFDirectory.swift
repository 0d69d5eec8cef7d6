// Where ISF files live in a Volatility 3 symbols directory: `windows/<pdb>/<GUID>-<AGE>.json[.xz|.gz]`
// (Volatility 3's own layout, volatility3/symbols/windows/…), the flat `<pdb>/<GUID>-<AGE>.json.xz`
// layout, and files directly in the folder; plus enumeration of every file for `symbols list`.

import Foundation

/// Finds and lists ISF files under a directory.
public enum ISFDirectory {
  /// Extensions tried, in order.
  public static let extensions = [".json.xz", ".json.gz", ".json"]

  /// Candidate paths for `identity` under `root` (the PDB name must already be validated).
  public static func candidates(root: String, identity: PDBIdentity) -> [String] {
    let stems = [
      "windows/\(identity.name)/\(identity.isfKey)", "\(identity.name)/\(identity.isfKey)", identity.isfKey,
    ]
    return stems.flatMap { stem in extensions.map { "\(root)/\(stem)\($0)" } }
  }

  /// The first existing ISF file for `identity` under `root`, or nil.
  public static func find(root: String, identity: PDBIdentity) throws(SymbolsError) -> String? {
    try SymbolFileName.validate(identity.name)
    return candidates(root: root, identity: identity).first { FileManager.default.fileExists(atPath: $0) }
  }

  /// An ISF file found by listing, with the identity its path names.
  public struct Entry: Sendable, Hashable {
    public var path: String
    public var identity: PDBIdentity
  }

  /// Every `<pdb>/<GUID>-<AGE>.json*` under `root` (also below `windows/`), at most `limit` files.
  public static func list(root: String, limit: Int = 100_000) -> [Entry] {
    var out: [Entry] = []
    let fm = FileManager.default
    for base in [root + "/windows", root] {
      guard let pdbDirs = try? fm.contentsOfDirectory(atPath: base) else { continue }
      for pdb in pdbDirs.sorted() where pdb.lowercased().hasSuffix(".pdb") {
        guard let files = try? fm.contentsOfDirectory(atPath: "\(base)/\(pdb)") else { continue }
        for file in files.sorted() {
          guard out.count < limit, let key = isfKey(of: file) else { continue }
          out.append(
            Entry(path: "\(base)/\(pdb)/\(file)", identity: PDBIdentity(name: pdb, guid: key.guid, age: key.age)))
        }
      }
    }
    return out
  }

  /// Parses `GUID-AGE.json[.xz|.gz]` (GUID 32 hex digits, age decimal).
  public static func isfKey(of fileName: String) -> (guid: String, age: UInt32)? {
    guard let ext = extensions.first(where: { fileName.lowercased().hasSuffix($0) }) else { return nil }
    let stem = fileName.dropLast(ext.count)
    let parts = stem.split(separator: "-")
    guard parts.count == 2, parts[0].count == 32, parts[0].allSatisfy(\.isHexDigit), let age = UInt32(parts[1]) else {
      return nil
    }
    return (String(parts[0]).uppercased(), age)
  }

  /// File versions listed in a `VERSIONS.md` table (`| 10.0.22000.318 | Win11 | GUID-AGE.json.xz |`),
  /// keyed by `GUID-AGE`; empty if there is no such file.
  public static func versions(inDirectory dir: String) -> [String: String] {
    guard let data = FileManager.default.contents(atPath: dir + "/VERSIONS.md"), data.count < 1 << 22 else {
      return [:]
    }
    var out: [String: String] = [:]
    for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
      let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
      guard cells.count >= 3, let key = isfKey(of: cells[cells.count - 1]) else { continue }
      out["\(key.guid)-\(key.age)"] = cells[0]
    }
    return out
  }
}
