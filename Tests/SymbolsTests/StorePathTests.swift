// Symbol-path parsing (the debuggers' `_NT_SYMBOL_PATH` syntax), name validation, the PDB
// identity reader on broken files, and cabinet errors.

import Foundation
import Symbols
import TestData
import Testing

@Suite struct StorePathTests {
  let ms = SymbolPath.microsoftServer

  @Test func serverElements() throws {
    #expect(
      try SymbolPath.parse("srv*C:\\symbols*https://msdl.microsoft.com/download/symbols") == [
        .server(url: ms, cache: "C:\\symbols")
      ])
    #expect(
      try SymbolPath.parse("SRV*https://example.com/sym") == [.server(url: "https://example.com/sym", cache: nil)])
    #expect(try SymbolPath.parse("srv*") == [.server(url: ms, cache: nil)])
    #expect(
      try SymbolPath.parse("srv*/c1*/c2*https://x.org") == [
        .directory("/c2"), .server(url: "https://x.org", cache: "/c1"),
      ])
    #expect(
      try SymbolPath.parse("symsrv*symsrv.dll*/cache*https://x.org") == [.server(url: "https://x.org", cache: "/cache")]
    )
  }

  @Test func cacheAndPlainElements() throws {
    #expect(
      try SymbolPath.parse("cache*/tmp/c;/sym/dir; ;srv*https://a.b;/x/ntkrnlmp.pdb;/y/k.json.xz") == [
        .directory("/tmp/c"), .directory("/sym/dir"), .server(url: "https://a.b", cache: "/tmp/c"),
        .file("/x/ntkrnlmp.pdb"), .file("/y/k.json.xz"),
      ])
  }

  @Test func badElements() {
    #expect(throws: SymbolsError.self) { try SymbolPath.parse("foo*bar") }
    #expect(throws: SymbolsError.self) { try SymbolPath.parse("srv*/cache*ftp://x") }
    #expect(throws: SymbolsError.self) { try SymbolPath.parse("/a\u{0}b") }
    #expect(throws: SymbolsError.self) {
      try SymbolPath.resolve(symbols: [], environment: [:], symbolServer: "ftp://x")
    }
  }

  @Test func resolveOrder() throws {
    let env = ["_NT_SYMBOL_PATH": "srv*/nt/cache*https://nt.example", "HOME": "/home/u"]
    let p = try SymbolPath.resolve(symbols: ["/explicit/a.pdb", "/dir"], environment: env, symbolServer: "http://my")
    #expect(
      p.elements == [
        .file("/explicit/a.pdb"), .directory("/dir"), .server(url: "https://nt.example", cache: "/nt/cache"),
        .server(url: "http://my", cache: nil),
      ])
    #expect(p.defaultCache == "/home/u/.cache/callscope/symbols")
    #expect(p.searchedDirectories == ["/dir", "/nt/cache", "/home/u/.cache/callscope/symbols"])
    let d = try SymbolPath.resolve(symbols: [], environment: ["XDG_CACHE_HOME": "/x"])
    #expect(d.elements == [.server(url: ms, cache: nil)])
    #expect(d.defaultCache == "/x/callscope/symbols")
  }

  @Test func fileNames() throws {
    try SymbolFileName.validate("ntkrnlmp.pdb")
    try SymbolFileName.validate("win32k full.pdb")
    for bad in [
      "", ".", "..", "../x.pdb", "a\\b.pdb", "a/b", "x\u{0}", String(repeating: "a", count: 129), "\u{1b}[31m.pdb",
      "é.pdb",
    ] {
      #expect(throws: SymbolsError.self) { try SymbolFileName.validate(bad) }
    }
    #expect(throws: SymbolsError.self) { try SymbolFileName.validateGUID("XYZ") }
  }

  func pdbCopy(_ mutate: (inout [UInt8]) -> Void) throws -> String {
    let src = try StoreTestPDBs.shared.get().tiny.path
    var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: src)))
    mutate(&bytes)
    let dir = try TestData.temporaryDirectory("badpdb")
    let path = dir.appendingPathComponent("bad.pdb").path
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return path
  }

  func expectCorruptPDB(_ mutate: (inout [UInt8]) -> Void) throws {
    let path = try pdbCopy(mutate)
    defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
    do {
      _ = try PDBFileIdentity.read(path: path)
      Issue.record("corrupt PDB accepted")
    } catch {
      guard case .corruptPDB(let file, _, _) = error else { return #expect(Bool(false), "\(error)") }
      #expect(file == path)
    }
  }

  @Test func badPDBs() throws {
    try expectCorruptPDB { $0 = Array($0.prefix(20)) }  // truncated superblock
    try expectCorruptPDB { $0[0] = 0x4E }  // bad magic
    try expectCorruptPDB { $0[32] = 0x03 }  // block size 0x1003
    try expectCorruptPDB {
      $0[40] = 0xFF; $0[41] = 0xFF; $0[42] = 0xFF
    }  // absurd block count
    try expectCorruptPDB {
      $0[52] = 0xFF; $0[53] = 0xFF
    }  // block map address beyond the file
    try expectCorruptPDB { $0 = Array($0.prefix($0.count / 2)) }  // truncated file
  }

  @Test func badCabinets() throws {
    #expect(throws: SymbolsError.self) { try Cabinet.extractFirstFile(Array("MSCF".utf8), name: "x.pd_") }
    #expect(throws: SymbolsError.self) { try Cabinet.extractFirstFile(Array(repeating: 0, count: 64), name: "x.pd_") }
  }
}
