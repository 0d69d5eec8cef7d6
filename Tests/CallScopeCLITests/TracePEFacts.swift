// What the LLVM tools say about a PE file the trace tests built (never CallScope's own reader):
// exports from llvm-readobj --coff-exports, sections and header fields from llvm-readobj --sections
// --file-headers, so the guests can map the file section by section at its preferred base.

import Foundation
import TestData

/// A built DLL's bytes, exports and mapped layout.
struct TracePEFacts {
  let bytes: [UInt8]
  /// Export name → RVA.
  let exports: [String: UInt64]
  /// Sections as mapped: (virtual address, raw bytes).
  let sections: [(rva: UInt64, bytes: [UInt8])]
  /// Section RVAs by section number − 1 (for PDB section:offset addresses).
  let sectionRVAs: [UInt64]
  let sizeOfImage: UInt64
  let imageBase: UInt64
  let headers: [UInt8]

  init(path dllPath: String) throws {
    let dll = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dllPath)))

    // Exports: "Name: X" followed by "RVA: 0x…" lines.
    let exportDump = try TestData.run(try TestData.which("llvm-readobj"), ["--coff-exports", dllPath])
    guard exportDump.status == 0 else { throw TestDataError.tool("llvm-readobj: \(exportDump.stderr)") }
    var exports: [String: UInt64] = [:]
    var name: String?
    for line in exportDump.stdout.split(separator: "\n").map({ $0.trimmingCharacters(in: .whitespaces) }) {
      if line.hasPrefix("Name: ") { name = String(line.dropFirst(6)) }
      if line.hasPrefix("RVA: 0x"), let n = name { exports[n] = UInt64(line.dropFirst(7), radix: 16) }
    }
    // Sections: VirtualAddress, RawDataSize, PointerToRawData.
    let sectionDump = try TestData.run(try TestData.which("llvm-readobj"), ["--sections", "--file-headers", dllPath])
    guard sectionDump.status == 0 else { throw TestDataError.tool("llvm-readobj: \(sectionDump.stderr)") }
    var sections: [(UInt64, [UInt8])] = []
    var sectionRVAs: [UInt64] = []  // by section number - 1
    var va: UInt64?
    var rawSize: Int?
    var sizeOfImage: UInt64 = 0
    var sizeOfHeaders = 0x400
    var imageBase: UInt64 = 0
    for line in sectionDump.stdout.split(separator: "\n").map({ $0.trimmingCharacters(in: .whitespaces) }) {
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
        sectionRVAs.append(v)
      }
      if let v = value("RawDataSize: ") { rawSize = Int(v) }
      if let v = value("PointerToRawData: "), let at = va, let size = rawSize {
        let start = Int(v)
        guard start + size <= dll.count else { throw TestDataError.tool("section past the end of the DLL") }
        sections.append((at, Array(dll[start..<(start + size)])))
        va = nil
        rawSize = nil
      }
    }
    self.bytes = dll
    self.exports = exports
    self.sections = sections.map { (rva: $0.0, bytes: $0.1) }
    self.sectionRVAs = sectionRVAs
    self.sizeOfImage = sizeOfImage
    self.imageBase = imageBase
    self.headers = Array(dll.prefix(sizeOfHeaders))
  }
}
