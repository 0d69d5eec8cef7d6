// Unit tests of the PDB reader's pieces on byte literals and synthesised files (values from the
// CodeView/MSF documentation), and of the streams against llvm-pdbutil and pdbconv.

import BinaryReading
import Foundation
import TestData
import Testing

@testable import Symbols

@Suite("PDB streams and records")
struct PDBStreamTests {
  static func leaf(_ bytes: [UInt8]) throws(PDBError) -> (Int64?, Int) {
    var c = PDBCursor(bytes, file: "t", structure: "leaf")
    let v = try NumericLeaf.read(&c)
    return (v, c.offset)
  }

  @Test("numeric leaves (cvinfo.h LF_NUMERIC encodings)")
  func numericLeaves() throws {
    #expect(try Self.leaf([0x34, 0x12]) == (0x1234, 2))
    #expect(try Self.leaf([0x00, 0x80, 0xFF]) == (-1, 3))  // LF_CHAR
    #expect(try Self.leaf([0x01, 0x80, 0x00, 0x80]) == (-32768, 4))  // LF_SHORT
    #expect(try Self.leaf([0x02, 0x80, 0xFE, 0xFF]) == (65534, 4))  // LF_USHORT
    #expect(try Self.leaf([0x03, 0x80, 0xFF, 0xFF, 0xFF, 0xFF]) == (-1, 6))  // LF_LONG
    #expect(try Self.leaf([0x04, 0x80, 0xFF, 0xFF, 0xFF, 0xFF]) == (0xFFFF_FFFF, 6))  // LF_ULONG
    #expect(try Self.leaf([0x09, 0x80] + [UInt8](repeating: 0xFF, count: 8)) == (-1, 10))  // LF_QUADWORD
    #expect(try Self.leaf([0x0A, 0x80, 1, 0, 0, 0, 1, 0, 0, 0]) == (0x1_0000_0001, 10))  // LF_UQUADWORD
    #expect(try Self.leaf([0x05, 0x80, 0, 0, 0x80, 0x3F]) == (nil, 6))  // LF_REAL32 skipped
    #expect(try Self.leaf([0x10, 0x80, 3, 0, 0x61, 0x62, 0x63]) == (nil, 7))  // LF_VARSTRING
    #expect(throws: PDBError.self) { try Self.leaf([0xFF, 0x80]) }
    #expect(throws: PDBError.self) { try Self.leaf([0x04, 0x80, 0xFF]) }  // truncated
  }

  @Test("simple type indices (LLVM CodeView type records: simple types)")
  func simpleTypes() {
    #expect(SimpleType(index: 0x0074).map { [$0.size] } == [4])
    #expect(SimpleType(index: 0x0074)?.name == "int")
    #expect(SimpleType(index: 0x0022)?.name == "unsigned long")
    #expect(SimpleType(index: 0x0023)?.size == 8)
    #expect(SimpleType(index: 0x0603)?.pointerSize == 8)  // void * (near64)
    #expect(SimpleType(index: 0x0403)?.pointerSize == 4)  // void * (near32)
    #expect(SimpleType(index: 0x0070)?.size == 1)
    #expect(SimpleType(index: 0x0071)?.size == 2)
    #expect(SimpleType(index: 0x0040)?.size == 4)
    #expect(SimpleType(index: 0x1000) == nil)
    #expect(SimpleType(index: 0x00EE) == nil)
  }

  @Test("x86 name undecoration")
  func undecorate() {
    #expect(PDBSymbolTable.undecorate("_PsLoadedModuleList") == "PsLoadedModuleList")
    #expect(PDBSymbolTable.undecorate("_KeFoo@8") == "KeFoo")
    #expect(PDBSymbolTable.undecorate("@FastOne@4") == "FastOne")
    #expect(PDBSymbolTable.undecorate("?Method@Class@@QAEXXZ") == nil)
    #expect(PDBSymbolTable.undecorate("__imp__KeFoo@8") == nil)
    #expect(PDBSymbolTable.undecorate("Plain") == nil)
    #expect(PDBSymbolTable.undecorate("_") == nil)
  }

  @Test("LF_STRUCTURE2 / LF_UNION2 (VS2019 16.8+ forms) with forward references")
  func structure2() throws {
    func udt2(_ kind: UInt16, _ name: String, fields: UInt32, size: UInt16, property: UInt32) -> (UInt16, [UInt8]) {
      var b = Bytes()
      b.u32(property)
      b.u32(fields)
      b.u32(0)
      b.u32(0)
      b.u16(2)  // member count (numeric leaf)
      b.u16(size)  // size (numeric leaf)
      b.str(name)
      return (kind, b.b)
    }
    let types: [(UInt16, [UInt8])] = [
      udt2(0x1609, "NEW2", fields: 0, size: 0, property: 0x80),  // 0x1000 forward reference
      TypeRec.pointer64(0x1000),  // 0x1001
      TypeRec.fieldList([TypeRec.member("Next", 0x1001, 0), TypeRec.member("Value", 0x0022, 8)]),  // 0x1002
      udt2(0x1609, "NEW2", fields: 0x1002, size: 16, property: 0),  // 0x1003
      TypeRec.fieldList([TypeRec.member("i", 0x0074, 0), TypeRec.member("q", 0x0023, 0)]),  // 0x1004
      udt2(0x160A, "U2", fields: 0x1004, size: 8, property: 0),  // 0x1005
    ]
    let p = try PDBBadInputTests.open(MSFSynth.pdb(tpi: MSFSynth.tpiStream(types)).build())
    #expect(try p.lookupStructSize("NEW2") == 16)
    #expect(try p.lookupField("NEW2", "Next")?.type == .pointer(to: .structure(name: "NEW2"), size: 8))
    #expect(try p.lookupField("NEW2", "Value")?.offset == 8)
    #expect(try p.lookupStructSize("U2") == 8)
    #expect(try p.lookupField("U2", "q")?.type == .base(name: "unsigned __int64", size: 8))
    #expect(p.structNames == ["NEW2", "U2"])
  }

  @Test("a stream directory spanning several blocks; streams read across blocks (llvm-pdbutil agrees)")
  func multiBlockDirectory() throws {
    let big = (0..<150_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ ($0 >> 9)) }
    var streams = MSFSynth.pdb(tpi: MSFSynth.tpiStream([])).streams
    streams.append(big)
    let built = MSFSynth(blockSize: 512, streams: streams).build()
    let pdb = try PDBFile(source: built.source(), name: "synth.pdb")
    #expect(try pdb.stream(4).readAll() == big)
    #expect(try pdb.stream(4).bytes(at: 511, count: 3) == Array(big[511..<514]))
    let dir = try TestData.temporaryDirectory("pdb-multi")
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("multi.pdb").path
    try Data(built.bytes).write(to: URL(fileURLWithPath: path))
    let out = try pdbutil(["dump", "-streams", path])
    #expect(capture(#"Stream\s+4 \(\s*(\d+) bytes\)"#, in: out) == ["150000"])
    let dirBytes = 4 + 5 * 4 + (150_000 + 511) / 512 * 4 + 4 * 4
    #expect(dirBytes > 512)  // the directory really spans blocks
    #expect(throws: PDBError.streamOutOfRange(file: "synth.pdb", stream: 5, streamCount: 5)) {
      try pdb.stream(5)
    }
  }

  @Test("named stream map matches llvm-pdbutil -streams")
  func namedStreams() throws {
    let built = try PDBFixtures.kernel64()
    let p = try PDBProfile(path: built.pdb)
    let out = try pdbutil(["dump", "-streams", built.pdb])
    var expected: [String: UInt32] = [:]
    for m in captures(#"Stream\s+(\d+) \(\s*\d+ bytes\): \[Named Stream "([^"]+)"\]"#, in: out) {
      expected[m[1]] = UInt32(m[0])
    }
    #expect(expected.count >= 2)
    #expect(p.info.namedStreams == expected)
  }

  @Test("section map matches llvm-pdbutil -section-map")
  func sectionMap() throws {
    let built = try PDBFixtures.kernel64()
    let p = try PDBProfile(path: built.pdb)
    let out = try pdbutil(["dump", "-section-map", built.pdb])
    let rows = captures(#"frame = (\d+),.*\n.*offset = (\d+), size = (\d+)"#, in: out)
    #expect(rows.count == p.dbi.sectionMap.count && rows.count >= 4)
    for (row, entry) in zip(rows, p.dbi.sectionMap) {
      #expect(UInt16(row[0]) == entry.frame && UInt32(row[1]) == entry.offset && UInt32(row[2]) == entry.length)
    }
    #expect(try p.sections().sections.map(\.name).prefix(3) == [".text", ".rdata", ".data"])
  }

  @Test("identity age is the DBI age (as pdbconv reports), not the info stream's (as llvm-pdbutil -summary)")
  func dbiAgeWins() throws {
    let built = try PDBFixtures.kernelForVolatility()
    let out = try pdbutil(["dump", "-streams", "-stream-blocks", built.pdb])
    let block = try #require(captures(#"\[DBI Stream\]\n\s+Blocks: \[(\d+)"#, in: out).first.flatMap { Int($0[0]) })
    var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: built.pdb)))
    let blockSize = try PDBFile(path: built.pdb).blockSize
    bytes[block * blockSize + 8] = 7  // DbiStreamHeader.Age
    let dir = try TestData.temporaryDirectory("pdb-age")
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("age.pdb").path
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    let p = try PDBProfile(path: path)
    let conv = try pdbconv(path)
    let age = ((conv["metadata"] as? [String: Any])?["windows"] as? [String: Any]).flatMap {
      ($0["pdb"] as? [String: Any])?["age"] as? Int
    }
    #expect(age == 7)
    #expect(Int(p.identity.age) == age)
    let summary = try PDBUtilDump(pdb: path)
    #expect(p.info.age == summary.age && summary.age != 7)
  }
}
