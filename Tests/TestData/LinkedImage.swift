// A PE image and its PDB built from C source by clang (CodeView) and lld-link, with what the LLVM
// tools — not CallScope — say about it: sections as mapped, exports, and public symbols' RVAs.

import Foundation

/// A linked x64 image (DLL or driver) and the LLVM tools' facts about it.
public struct LinkedImage: Sendable {
  public let directory: URL
  /// The image file and its PDB.
  public let imagePath: String
  public let pdbPath: String
  public let imageBase: UInt64
  public let sizeOfImage: UInt64
  public let headers: [UInt8]
  /// Sections as mapped: (RVA, raw bytes).
  public let sections: [(rva: UInt64, bytes: [UInt8])]
  /// Export name → RVA (llvm-readobj --coff-exports).
  public let exports: [String: UInt64]
  /// Public symbol → RVA (llvm-pdbutil dump -publics, sections from llvm-readobj).
  public let publics: [String: UInt64]

  /// Compiles `source` (x64 Windows, -O1) and links `fileName` (e.g. `fltmgr.sys`) with its PDB
  /// (`stem.pdb`) at `base`; unreferenced and identical functions are kept.
  public static func build(source: String, fileName: String, base: UInt64, label: String) throws -> LinkedImage {
    let dir = try TestData.temporaryDirectory(label)
    let stem = fileName.split(separator: ".").first.map(String.init) ?? fileName
    let c = dir.appendingPathComponent(stem + ".c")
    try source.write(to: c, atomically: true, encoding: .utf8)
    let obj = dir.appendingPathComponent(stem + ".obj").path
    let compile = try TestData.run(
      try TestData.which("clang"),
      ["--target=x86_64-pc-windows-msvc", "-g", "-gcodeview", "-O1", "-c", c.path, "-o", obj])
    guard compile.status == 0 else { throw TestDataError.tool("clang: \(compile.stderr)") }
    let imagePath = dir.appendingPathComponent(fileName).path
    let pdbPath = dir.appendingPathComponent(stem + ".pdb").path
    let link = try TestData.run(
      try TestData.which("lld-link"),
      [
        "/dll", "/noentry", "/nodefaultlib", "/debug", "/opt:noref", "/opt:noicf",
        "/base:0x" + String(base, radix: 16), "/pdb:" + pdbPath, "/out:" + imagePath, obj,
      ])
    guard link.status == 0 else { throw TestDataError.tool("lld-link: \(link.stderr)") }
    let file = [UInt8](try Data(contentsOf: URL(fileURLWithPath: imagePath)))
    let layout = try mappedLayout(imagePath, file: file)
    return LinkedImage(
      directory: dir, imagePath: imagePath, pdbPath: pdbPath, imageBase: layout.imageBase,
      sizeOfImage: layout.sizeOfImage, headers: Array(file.prefix(layout.sizeOfHeaders)), sections: layout.sections,
      exports: try exports(imagePath), publics: try publics(pdbPath, sectionRVAs: layout.sections.map(\.rva)))
  }

  /// Header values and sections from `llvm-readobj --sections --file-headers`.
  static func mappedLayout(_ path: String, file: [UInt8]) throws -> (
    imageBase: UInt64, sizeOfImage: UInt64, sizeOfHeaders: Int, sections: [(rva: UInt64, bytes: [UInt8])]
  ) {
    let dump = try TestData.run(try TestData.which("llvm-readobj"), ["--sections", "--file-headers", path])
    guard dump.status == 0 else { throw TestDataError.tool("llvm-readobj: \(dump.stderr)") }
    var sections: [(rva: UInt64, bytes: [UInt8])] = []
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
      if let v = value("VirtualAddress: ") { va = v }
      if let v = value("RawDataSize: ") { rawSize = Int(v) }
      if let v = value("PointerToRawData: "), let at = va, let size = rawSize {
        let start = Int(v)
        guard start + size <= file.count else { throw TestDataError.tool("section past the end of \(path)") }
        sections.append((at, Array(file[start..<(start + size)])))
        va = nil
        rawSize = nil
      }
    }
    guard !sections.isEmpty, sizeOfImage > 0, imageBase > 0 else {
      throw TestDataError.tool("llvm-readobj gave no sections, SizeOfImage or ImageBase for \(path)")
    }
    return (imageBase, sizeOfImage, sizeOfHeaders, sections)
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

  /// Public symbol → RVA from `llvm-pdbutil dump -publics` (addr = SSSS:OOOO, decimal).
  public static func publics(_ pdb: String, sectionRVAs: [UInt64]) throws -> [String: UInt64] {
    let dump = try TestData.run(try TestData.which("llvm-pdbutil"), ["dump", "-publics", pdb])
    guard dump.status == 0 else { throw TestDataError.tool("llvm-pdbutil: \(dump.stderr)") }
    var out: [String: UInt64] = [:]
    var pending: String?
    for line in dump.stdout.split(separator: "\n") {
      if line.contains("S_PUB32"), let open = line.firstIndex(of: "`"), let close = line.lastIndex(of: "`"),
        open < close
      {
        pending = String(line[line.index(after: open)..<close])
      } else if let name = pending, let range = line.range(of: "addr = ") {
        let parts = line[range.upperBound...].split(separator: ":")
        if parts.count == 2, let section = Int(parts[0]), let offset = UInt64(parts[1]), section >= 1,
          section <= sectionRVAs.count
        {
          out[name] = sectionRVAs[section - 1] + offset
        }
        pending = nil
      }
    }
    return out
  }
}
