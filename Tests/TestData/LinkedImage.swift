// A PE image and its PDB built from C source by clang (CodeView) and lld-link, with what the LLVM
// tools — not CallScope — say about it: sections as mapped, exports, and public symbols' RVAs.

import Foundation

/// A linked image (DLL or driver) and the LLVM tools' facts about it.
public struct LinkedImage: Sendable {
  public let directory: URL
  /// The image file and its PDB.
  public let imagePath: String
  public let pdbPath: String
  public let bytes: [UInt8]
  public let imageBase: UInt64
  public let sizeOfImage: UInt64
  public let headers: [UInt8]
  /// Sections as mapped: (RVA, raw bytes).
  public let sections: [(rva: UInt64, bytes: [UInt8])]
  /// Every section's RVA by section number − 1 (PDB addresses are section:offset).
  public let sectionRVAs: [UInt64]
  /// Export name → RVA (llvm-readobj --coff-exports).
  public let exports: [String: UInt64]
  /// Public symbol → RVA from the PDB (llvm-pdbutil dump -publics).
  public let publics: [String: UInt64]

  /// Compiles `source` (x64 Windows, -O1) and links `fileName` (e.g. `fltmgr.sys`) with its PDB
  /// (`stem.pdb`) at `base`; unreferenced and identical functions are kept.
  public static func build(source: String, fileName: String, base: UInt64, label: String) throws -> LinkedImage {
    let stem = fileName.split(separator: ".").first.map(String.init) ?? fileName
    let dir = try TestData.buildDLL(
      source: source, label: label, name: stem, pdbName: stem + ".pdb", base: base, fileName: fileName)
    return try LinkedImage(
      directory: dir, imagePath: dir.appendingPathComponent(fileName).path,
      pdbPath: dir.appendingPathComponent(stem + ".pdb").path)
  }

  /// The facts of an image already built.
  public init(directory: URL, imagePath: String, pdbPath: String) throws {
    self.directory = directory
    self.imagePath = imagePath
    self.pdbPath = pdbPath
    let file = [UInt8](try Data(contentsOf: URL(fileURLWithPath: imagePath)))
    bytes = file
    let dump = try TestData.run(try TestData.which("llvm-readobj"), ["--sections", "--file-headers", imagePath])
    guard dump.status == 0 else { throw TestDataError.tool("llvm-readobj: \(dump.stderr)") }
    var sections: [(rva: UInt64, bytes: [UInt8])] = []
    var rvas: [UInt64] = []
    var va: UInt64?
    var rawSize: Int?
    var sizeOfImage: UInt64 = 0
    var sizeOfHeaders = 0x400
    var imageBase: UInt64 = 0
    for line in dump.stdout.split(separator: "\n").map({ $0.trimmingCharacters(in: .whitespaces) }) {
      func value(_ prefix: String) -> UInt64? {
        guard line.hasPrefix(prefix) else { return nil }
        let rest = line.dropFirst(prefix.count)
        return rest.hasPrefix("0x") ? UInt64(rest.dropFirst(2), radix: 16) : UInt64(rest)
      }
      if let v = value("SizeOfImage: ") { sizeOfImage = v }
      if let v = value("ImageBase: ") { imageBase = v }
      if let v = value("SizeOfHeaders: ") { sizeOfHeaders = Int(v) }
      if let v = value("VirtualAddress: ") {
        va = v
        rvas.append(v)
      }
      if let v = value("RawDataSize: ") { rawSize = Int(v) }
      if let v = value("PointerToRawData: "), let at = va, let size = rawSize {
        let start = Int(v)
        guard start + size <= file.count else { throw TestDataError.tool("section past the end of \(imagePath)") }
        sections.append((at, Array(file[start..<(start + size)])))
        va = nil
        rawSize = nil
      }
    }
    guard !sections.isEmpty, sizeOfImage > 0, imageBase > 0 else {
      throw TestDataError.tool("llvm-readobj gave no sections, SizeOfImage or ImageBase for \(imagePath)")
    }
    self.imageBase = imageBase
    self.sizeOfImage = sizeOfImage
    self.headers = Array(file.prefix(sizeOfHeaders))
    self.sections = sections
    self.sectionRVAs = rvas
    self.exports = try Self.exports(imagePath)
    self.publics = try Self.publics(pdbPath, sectionRVAs: rvas)
  }

  /// Export name → RVA: `Name: X` followed by `RVA: 0x…` in `llvm-readobj --coff-exports`.
  static func exports(_ path: String) throws -> [String: UInt64] {
    let dump = try TestData.run(try TestData.which("llvm-readobj"), ["--coff-exports", path])
    guard dump.status == 0 else { throw TestDataError.tool("llvm-readobj: \(dump.stderr)") }
    var exports: [String: UInt64] = [:]
    var name: String?
    for line in dump.stdout.split(separator: "\n").map({ $0.trimmingCharacters(in: .whitespaces) }) {
      if line.hasPrefix("Name: ") { name = String(line.dropFirst(6)) }
      if line.hasPrefix("RVA: 0x"), let n = name { exports[n] = UInt64(line.dropFirst(7), radix: 16) }
    }
    return exports
  }

  /// Public symbol → RVA from `llvm-pdbutil dump -publics` ("S_PUB32 [size = N] `Name`", then
  /// "flags = …, addr = SSSS:OOOO" in decimal); `functionsOnly` keeps `flags = function` ones, and
  /// x86 cdecl names (`_Name`) are kept under their plain name too.
  public static func publics(_ pdb: String, sectionRVAs: [UInt64], functionsOnly: Bool = false) throws -> [String:
    UInt64]
  {
    let dump = try TestData.run(try TestData.which("llvm-pdbutil"), ["dump", "-publics", pdb])
    guard dump.status == 0 else { throw TestDataError.tool("llvm-pdbutil: \(dump.stderr)") }
    var out: [String: UInt64] = [:]
    var pending: String?
    for line in dump.stdout.split(separator: "\n").map({ $0.trimmingCharacters(in: .whitespaces) }) {
      if line.contains("S_PUB32"), let open = line.firstIndex(of: "`"), let close = line.lastIndex(of: "`"),
        open < close
      {
        pending = String(line[line.index(after: open)..<close])
      } else if let name = pending, let range = line.range(of: "addr = ") {
        pending = nil
        guard !functionsOnly || line.hasPrefix("flags = function") else { continue }
        let parts = line[range.upperBound...].split(separator: ":")
        guard parts.count == 2, let section = Int(parts[0]), let offset = UInt64(parts[1]), section >= 1,
          section <= sectionRVAs.count
        else { continue }
        let rva = sectionRVAs[section - 1] + offset
        out[name] = rva
        if name.hasPrefix("_"), !name.hasPrefix("__"), out[String(name.dropFirst())] == nil {
          out[String(name.dropFirst())] = rva
        }
      }
    }
    return out
  }
}
