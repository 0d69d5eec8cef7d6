// Malformed and hostile ISF input: each case must throw a clear error naming the byte offset.

import Foundation
import Symbols
import TestData
import Testing

@Suite struct ISFBadInputTests {
  static let minimal = """
    {"metadata": {"format": "6.1.0", "windows": {"pdb": {"GUID": "00112233445566778899AABBCCDDEEFF", "age": 2, "database": "x.pdb"}}},
     "base_types": {"pointer": {"size": 8, "kind": "int", "signed": false, "endian": "little"}},
     "symbols": {"a": {"address": 16}}, "enums": {},
     "user_types": {"_S": {"kind": "struct", "size": 8, "fields": {"f": {"offset": 4, "type": {"kind": "base", "name": "int"}}}}}}
    """

  func parse(_ text: String) throws(SymbolsError) -> ISFProfile {
    try ISFProfile(json: Array(text.utf8), name: "t.json")
  }

  func expectMalformed(_ text: String, at offset: Int? = nil, _ comment: Comment? = nil) {
    do {
      _ = try parse(text)
      Issue.record("no error for \(text.prefix(60))")
    } catch {
      switch error {
      case .malformedJSON(_, let at, _), .invalidISF(_, let at, _):
        if let offset { #expect(at == offset, comment) }
        #expect(error.description.contains("t.json"))
      default: Issue.record("unexpected error \(error)")
      }
    }
  }

  @Test func minimalDocumentParses() throws {
    let p = try parse(Self.minimal)
    #expect(p.identity == PDBIdentity(name: "x.pdb", guid: "00112233445566778899AABBCCDDEEFF", age: 2))
    #expect(p.symbol("a")?.rva == 16)
    #expect(p.field("_S", "f")?.offset == 4)
  }

  @Test func truncatedDocument() {
    for cut in [1, 10, 100, 200, Self.minimal.utf8.count - 1] {
      expectMalformed(String(Self.minimal.prefix(cut)))
    }
  }

  @Test func trailingGarbage() { expectMalformed(Self.minimal + " x", at: Self.minimal.utf8.count + 1) }

  @Test func wrongTypes() {
    expectMalformed(Self.minimal.replacingOccurrences(of: "\"address\": 16", with: "\"address\": \"16\""))
    expectMalformed(Self.minimal.replacingOccurrences(of: "\"offset\": 4", with: "\"offset\": -4"))
    expectMalformed(Self.minimal.replacingOccurrences(of: "\"offset\": 4", with: "\"offset\": 4.5"))
    expectMalformed(Self.minimal.replacingOccurrences(of: "\"size\": 8,", with: "\"size\": [8],"))
    expectMalformed(Self.minimal.replacingOccurrences(of: "\"age\": 2", with: "\"age\": 99999999999"))
    expectMalformed(Self.minimal.replacingOccurrences(of: "\"address\": 16", with: "\"address\": 99999999999999999999"))
  }

  @Test func missingMetadata() {
    expectMalformed(#"{"symbols": {}}"#)
    expectMalformed(#"{"metadata": {"format": "6.1.0"}}"#)
    expectMalformed(#"[1, 2]"#, at: 0)
    expectMalformed("", at: 0)
  }

  @Test func unsupportedFormatVersion() {
    #expect(throws: SymbolsError.self) {
      try parse(Self.minimal.replacingOccurrences(of: "6.1.0", with: "99.0.0"))
    }
  }

  @Test func deepNestingInUnknownKeyIsBounded() {
    let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
    let text = Self.minimal.replacingOccurrences(of: "\"enums\": {}", with: "\"enums\": {}, \"extra\": \(deep)")
    expectMalformed(text)
  }

  @Test func deepTypeNestingIsBounded() {
    var type = #"{"kind": "base", "name": "int"}"#
    for _ in 0..<200 { type = #"{"kind": "pointer", "subtype": \#(type)}"# }
    expectMalformed(Self.minimal.replacingOccurrences(of: #"{"kind": "base", "name": "int"}"#, with: type))
  }

  @Test func badStringsAndEscapes() {
    expectMalformed(Self.minimal.replacingOccurrences(of: "\"a\":", with: "\"a\u{01}\":"))
    expectMalformed(Self.minimal.replacingOccurrences(of: "\"a\":", with: "\"a\\q\":"))
    expectMalformed(Self.minimal.replacingOccurrences(of: "\"a\":", with: "\"a\\u12G4\":"))
  }

  @Test func escapedKeysDecode() throws {
    let p = try parse(Self.minimal.replacingOccurrences(of: "\"a\":", with: "\"a\\u00e9\\n\":"))
    #expect(p.symbol("a\u{e9}\n")?.rva == 16)
  }

  @Test func corruptXZ() throws {
    let dir = try TestData.temporaryDirectory("isf-bad")
    defer { try? FileManager.default.removeItem(at: dir) }
    let src = try ISFOracle.allFiles()[0]
    var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: src)))
    let truncated = dir.path + "/trunc.json.xz"
    try Data(bytes.prefix(bytes.count / 2)).write(to: URL(fileURLWithPath: truncated))
    #expect(throws: SymbolsError.self) { try ISFProfile(path: truncated) }
    bytes[bytes.count / 2] ^= 0xFF
    let flipped = dir.path + "/flip.json.xz"
    try Data(bytes).write(to: URL(fileURLWithPath: flipped))
    do {
      _ = try ISFProfile(path: flipped)
      Issue.record("corrupt xz accepted")
    } catch {
      guard case .corruptCompressed(_, "xz", _) = error else { return #expect(Bool(false), "\(error)") }
    }
    let notXZ = dir.path + "/text.json.xz"
    try Data("hello".utf8).write(to: URL(fileURLWithPath: notXZ))
    #expect(throws: SymbolsError.self) { try ISFProfile(path: notXZ) }
    #expect(throws: SymbolsError.self) { try ISFProfile(path: dir.path + "/missing.json") }
  }

  @Test func decompressionBombIsCapped() throws {
    let dir = try TestData.temporaryDirectory("isf-bomb")
    defer { try? FileManager.default.removeItem(at: dir) }
    // 8 MiB of zeros compress to a few KiB with xz and gzip (made by python, not by us).
    let r = try TestData.run(
      "python3",
      [
        "-c",
        "import lzma,gzip,sys; z=bytes(8<<20); open(sys.argv[1],'wb').write(lzma.compress(z)); "
          + "open(sys.argv[2],'wb').write(gzip.compress(z))", dir.path + "/b.json.xz", dir.path + "/b.json.gz",
      ])
    #expect(r.status == 0)
    for ext in ["xz", "gz"] {
      do {
        _ = try Decompressor.contents(ofFile: dir.path + "/b.json.\(ext)", limit: 1 << 20)
        Issue.record("bomb not capped (\(ext))")
      } catch {
        guard case .tooLarge(_, _, 1_048_576) = error else { return #expect(Bool(false), "\(error)") }
      }
    }
    #expect(try Decompressor.contents(ofFile: dir.path + "/b.json.gz").count == 8 << 20)
  }
}
