// A PDB of several MB built from a generated C file (thousands of structs and globals): lookups
// stay correct (publics vs llvm-pdbutil; marker struct layout by the C/x64 layout rules), and the
// time to open + load publics + decode a few structs is printed (PDB_LARGE_N sets the struct count).

import Foundation
import ImageBuilder
import TestData
import Testing

@testable import Symbols

@Suite("PDB reader on a large PDB")
struct PDBLargeFileTests {
  static func source(structs n: Int) -> String {
    var rng = SeededGenerator(seed: 42)
    func pick(_ k: Int) -> Int { Int(rng.next() % UInt64(k)) }
    let types = ["int", "unsigned long", "void *", "LIST_ENTRY", "unsigned char", "short", "long long"]
    var out = ["typedef struct _LIST_ENTRY { struct _LIST_ENTRY *Flink, *Blink; } LIST_ENTRY;"]
    for i in 0..<n {
      var fields: [String] = []
      for j in 0..<(8 + pick(16)) {
        if j % 11 == 5 {
          fields.append("  unsigned long Bits\(i)_\(j) : \(1 + pick(20));")
          continue
        }
        let t = j % 7 == 3 && i > 0 ? "struct _S\(pick(i)) *" : types[pick(types.count)]
        let array = j % 5 == 2 ? "[\(2 + pick(8))]" : ""
        fields.append("  \(t) Field\(i)_\(j)\(array);")
      }
      out.append("typedef struct _S\(i) {\n\(fields.joined(separator: "\n"))\n} S\(i);")
      out.append("__declspec(dllexport) S\(i) gVar\(i);")
      if i == n / 2 {
        // Marker: x64 C layout gives a@0, b@8, c@16 (3 bytes), d@20, size 24.
        out.append("typedef struct _MARKER { int a; long long b; char c[3]; int d; } MARKER;")
        out.append("__declspec(dllexport) MARKER gMarker;")
      }
      if i % 4 == 0 {
        out.append("__declspec(dllexport) unsigned long long Func\(i)(void) { return sizeof(gVar\(i)); }")
      }
    }
    return out.joined(separator: "\n") + "\n"
  }

  @Test("open + publics + a few structs of a multi-MB PDB: correct, and timed")
  func large() throws {
    let n = Int(ProcessInfo.processInfo.environment["PDB_LARGE_N"] ?? "") ?? 6000
    let built = try PDBFixtures.build("large\(n)", source: Self.source(structs: n))
    let size = (try FileManager.default.attributesOfItem(atPath: built.pdb)[.size] as? Int) ?? 0
    #expect(size > 3_000_000)

    let clock = ContinuousClock()
    var profile: PDBProfile?
    var marker: [String: FieldInfo]?
    var lastVar: SymbolInfo?
    var steps: [Duration] = []
    let elapsed = try clock.measure {
      let t0 = clock.now
      let p = try PDBProfile(path: built.pdb)
      let t1 = clock.now
      lastVar = try p.lookupSymbol("gVar\(n - 1)")
      let t2 = clock.now
      marker = try p.lookupFields(of: "_MARKER")
      let t3 = clock.now
      _ = try p.lookupFields(of: "_S\(n / 3)")
      _ = try p.lookupStructSize("_S\(n - 1)")
      steps = [t1 - t0, t2 - t1, t3 - t2, clock.now - t3]
      profile = p
    }
    print(
      "PDB large: \(size) bytes, \(n) structs: open + publics + 3 structs in \(elapsed) "
        + "(open \(steps[0]), symbols+sections \(steps[1]), TPI index + first struct \(steps[2]), 2 more \(steps[3]))")
    let p = try #require(profile)
    #expect(lastVar != nil)
    #expect(try p.lookupStructSize("_MARKER") == 24)
    #expect(marker?["a"]?.offset == 0 && marker?["b"]?.offset == 8)
    #expect(marker?["c"]?.offset == 16 && marker?["d"]?.offset == 20)
    #expect(marker?["c"]?.type == .array(of: .base(name: "char", size: 1), count: 3))

    let dump = try pdbutil(["dump", "-publics", "-section-headers", built.pdb])
    let vas = captures(#"^\s+([0-9A-F]+) virtual address$"#, in: dump).compactMap { UInt64($0[0], radix: 16) }
    let publics = captures(#"S_PUB32 \[size = \d+\] `([^`]*)`\n.*?addr = ([0-9]{4}):([0-9]+)"#, in: dump)
    #expect(publics.count > n)
    for m in publics {
      guard let seg = Int(m[1]), seg >= 1, seg <= vas.count, let off = UInt64(m[2]) else {
        Issue.record("bad llvm-pdbutil line \(m)")
        continue
      }
      #expect(try p.lookupSymbol(m[0])?.rva == vas[seg - 1] + off, "\(m[0])")
    }
  }
}
