// The PDB reader on broken input: one test per kind of damage, each expecting a `PDBError` that
// names what is wrong; plus seeded random mutations that must never crash or hang.

import BinaryReading
import Foundation
import ImageBuilder
import TestData
import Testing

@testable import Symbols

@Suite("PDB reader on bad input")
struct PDBBadInputTests {
  /// Types: 0x1000 modifier → itself; 0x1001 field list {m: 0x1000, ok: int}; 0x1002 struct S;
  /// 0x1003 field list continuing into itself; 0x1004 struct LOOP; 0x1005/0x1006 pointers to each
  /// other; 0x1007 field list {p: 0x1005}; 0x1008 struct PCYCLE; 0x1009 {a: int, b: long*}; 0x100A GOOD.
  static func cyclicTypes() -> [(UInt16, [UInt8])] {
    [
      TypeRec.modifier(0x1000),
      TypeRec.fieldList([TypeRec.member("m", 0x1000, 0), TypeRec.member("ok", 0x0074, 4)]),
      TypeRec.structure("S", fields: 0x1001, size: 8),
      TypeRec.fieldList([TypeRec.index(0x1003)]),
      TypeRec.structure("LOOP", fields: 0x1003, size: 4),
      TypeRec.pointer64(0x1006),
      TypeRec.pointer64(0x1005),
      TypeRec.fieldList([TypeRec.member("p", 0x1005, 0)]),
      TypeRec.structure("PCYCLE", fields: 0x1007, size: 8),
      TypeRec.fieldList([TypeRec.member("a", 0x0074, 0), TypeRec.member("b", 0x0612, 8)]),
      TypeRec.structure("GOOD", fields: 0x1009, size: 16, count: 2),
    ]
  }

  static func open(_ built: MSFSynth.Built) throws(PDBError) -> PDBProfile {
    try PDBProfile(pdb: try PDBFile(source: built.source(), name: "synth.pdb"))
  }

  @Test("the synthesised PDB is valid: llvm-pdbutil reads the same GUID, age and types")
  func synthesisedIsValid() throws {
    let built = MSFSynth.pdb(tpi: MSFSynth.tpiStream(Self.cyclicTypes())).build()
    let dir = try TestData.temporaryDirectory("pdb-synth")
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("synth.pdb").path
    try Data(built.bytes).write(to: URL(fileURLWithPath: path))
    let summary = try pdbutil(["dump", "-summary", "-types", path])
    let p = try PDBProfile(path: path)
    #expect(summary.contains("Age: 3") && p.info.age == 3)
    let guid = try #require(capture(#"GUID: \{([0-9A-F-]+)\}"#, in: summary))[0]
    #expect(p.identity.guid == guid.replacingOccurrences(of: "-", with: ""))
    let good = try #require(capture(#"`GOOD`\n.*\n.*sizeof (\d+)"#, in: summary)).first.flatMap { Int($0) }
    #expect(try p.lookupStructSize("GOOD") == good)
    #expect(summary.contains("kind = ptr64"))
    #expect(try p.lookupField("GOOD", "b")?.type == .pointer(to: .base(name: "long", size: 4), size: 8))
    #expect(try p.lookupField("GOOD", "b")?.offset == 8)
  }

  @Test("truncated file → truncated")
  func truncated() throws {
    let full = try [UInt8](Data(contentsOf: URL(fileURLWithPath: try PDBFixtures.kernel64().pdb)))
    for n in [0, 20, 40, 4096, full.count - 1] {
      #expect {
        try PDBFile(source: InMemoryByteSource(Array(full.prefix(n)), name: "t.pdb"), name: "t.pdb")
      } throws: { e in
        guard case .truncated(let file, _, _, _, _)? = e as? PDBError else { return false }
        return file == "t.pdb"
      }
    }
  }

  @Test("bad magic → badMagic")
  func badMagic() throws {
    var b = MSFSynth.pdb(tpi: MSFSynth.tpiStream([])).build()
    b.bytes[10] ^= 0xFF
    #expect(throws: PDBError.badMagic(file: "synth.pdb", found: Array(b.bytes.prefix(32)))) { try Self.open(b) }
  }

  @Test("directory block past the end of the file → blockOutOfRange")
  func directoryBlockPastEOF() throws {
    var b = MSFSynth.pdb(tpi: MSFSynth.tpiStream([])).build()
    let blocks = UInt32(b.bytes.count / b.blockSize)
    b.patch32(b.blockMapOffset, 0x0010_0000)
    #expect(
      throws: PDBError.blockOutOfRange(
        file: "synth.pdb", structure: "stream directory", block: 0x0010_0000, blockCount: blocks)
    ) { try Self.open(b) }
    var c = MSFSynth.pdb(tpi: MSFSynth.tpiStream([])).build()
    c.patch32(0x34, blocks + 3)  // the block-map block itself
    #expect(
      throws: PDBError.blockOutOfRange(
        file: "synth.pdb", structure: "MSF block map", block: blocks + 3, blockCount: blocks)
    ) { try Self.open(c) }
  }

  @Test("stream block index out of range → blockOutOfRange naming the stream")
  func streamBlockOutOfRange() throws {
    var b = MSFSynth.pdb(tpi: MSFSynth.tpiStream(Self.cyclicTypes())).build()
    let blocks = UInt32(b.bytes.count / b.blockSize)
    b.patch32(b.streamBlockEntryOffsets[2], 0xDEAD)
    #expect(
      throws: PDBError.blockOutOfRange(file: "synth.pdb", structure: "stream 2", block: 0xDEAD, blockCount: blocks)
    ) { try Self.open(b) }
  }

  @Test("huge stream size → absurdValue")
  func hugeStream() throws {
    var b = MSFSynth.pdb(tpi: MSFSynth.tpiStream([])).build()
    b.patch32(b.directoryOffset + 4 + 2 * 4, 0x7FFF_FFF0)  // size of stream 2
    #expect(
      throws: PDBError.absurdValue(
        file: "synth.pdb", what: "size of stream 2", value: 0x7FFF_FFF0, limit: UInt64(b.bytes.count))
    ) { try Self.open(b) }
  }

  @Test("absurd number of streams → absurdValue")
  func absurdStreamCount() throws {
    var b = MSFSynth.pdb(tpi: MSFSynth.tpiStream([])).build()
    b.patch32(b.directoryOffset, 0x4000_0000)
    #expect { try Self.open(b) } throws: { e in
      guard case .absurdValue(_, let what, let value, _)? = e as? PDBError else { return false }
      return what == "number of streams" && value == 0x4000_0000
    }
  }

  @Test("TPI record length past the end of the records → corrupt, at first use of types")
  func tpiRecordPastEnd() throws {
    var tpi = MSFSynth.tpiStream([TypeRec.structure("A", fields: 0, size: 4), TypeRec.modifier(0x74)])
    tpi[56 + 24] = 0xF0  // second record's length → 0x..F0, far beyond the stream
    let p = try Self.open(MSFSynth.pdb(tpi: tpi).build())
    #expect { try p.lookupStructSize("A") } throws: { e in
      guard case .corrupt(_, let structure, let offset, let message)? = e as? PDBError else { return false }
      return structure == "TPI record 0x1001" && offset == 56 + 24 && message.contains("runs past")
    }
    #expect(p.structSize("A") == nil)  // the protocol answer: nothing, not a crash
  }

  @Test("absurd TPI type count → absurdValue")
  func tpiAbsurdCount() throws {
    let tpi = MSFSynth.tpiStream([TypeRec.modifier(0x74)], typeCount: 0x0100_0000)
    let p = try Self.open(MSFSynth.pdb(tpi: tpi).build())
    #expect { try p.types() } throws: { e in
      guard case .absurdValue(_, "TPI type count", 0x0100_0000, _)? = e as? PDBError else { return false }
      return true
    }
  }

  @Test("type cycles (modifier → itself, field list → itself, pointer ↔ pointer) → typeCycle, no hang")
  func typeCycles() throws {
    let p = try Self.open(MSFSynth.pdb(tpi: MSFSynth.tpiStream(Self.cyclicTypes())).build())
    #expect(try p.lookupStructSize("S") == 8)
    #expect(throws: PDBError.typeCycle(file: "synth.pdb", index: 0x1000, depth: 1)) { try p.lookupField("S", "m") }
    #expect(throws: PDBError.typeCycle(file: "synth.pdb", index: 0x1003, depth: 1)) { try p.lookupFields(of: "LOOP") }
    #expect(throws: PDBError.typeCycle(file: "synth.pdb", index: 0x1005, depth: 2)) { try p.lookupField("PCYCLE", "p") }
    #expect(p.field("S", "m") == nil)
    #expect(try p.lookupField("GOOD", "a")?.offset == 0)
  }

  @Test("type index out of range → typeIndexOutOfRange")
  func typeIndexOutOfRange() throws {
    let types = [TypeRec.fieldList([TypeRec.member("x", 0x7777, 0)]), TypeRec.structure("X", fields: 0x1000, size: 4)]
    let p = try Self.open(MSFSynth.pdb(tpi: MSFSynth.tpiStream(types)).build())
    #expect(throws: PDBError.typeIndexOutOfRange(file: "synth.pdb", index: 0x7777, begin: 0x1000, end: 0x1002)) {
      try p.lookupField("X", "x")
    }
  }

  @Test("seeded random mutations of real and synthesised PDBs never crash or hang")
  func mutations() throws {
    let real = try [UInt8](Data(contentsOf: URL(fileURLWithPath: try PDBFixtures.kernel64().pdb)))
    let synth = MSFSynth.pdb(tpi: MSFSynth.tpiStream(Self.cyclicTypes())).build().bytes
    let seed = UInt64(ProcessInfo.processInfo.environment["PDB_FUZZ_SEED"] ?? "") ?? 0x5EED_0F_0DB
    print("PDB mutation seed: \(seed) (set PDB_FUZZ_SEED to replay)")
    var rng = SeededGenerator(seed: seed)
    var opened = 0
    for round in 0..<300 {
      var b = round % 2 == 0 ? real : synth
      for _ in 0..<(1 + Int(rng.next() % 8)) {
        let at = Int(rng.next() % UInt64(b.count))
        b[at] = UInt8(truncatingIfNeeded: rng.next())
      }
      guard let p = try? PDBProfile(pdb: try PDBFile(source: InMemoryByteSource(b), name: "m.pdb")) else { continue }
      opened += 1
      _ = p.symbolNames
      for name in p.structNames.prefix(20) { _ = p.fields(of: name) }
      _ = p.symbol("gDev")
      _ = p.enumeration("_KMODE")
    }
    #expect(opened > 0)
  }
}
