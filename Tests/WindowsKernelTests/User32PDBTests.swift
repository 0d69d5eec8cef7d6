// The user32 PDB path of the KernelCallbackTable check: a user32.dll built here with clang and
// lld-link (CodeView PDB) whose apfnDispatch table holds __fn* routines. The PDB reader's RVAs must
// equal llvm-pdbutil's publics (section:offset) plus llvm-readobj's section addresses, and the name
// map KCT builds from the PDB (routineNames / slotNames) must name each slot of apfnDispatch as
// read from the DLL file's .data, in the order the C source lists them.

import Callbacks
import Foundation
import PortableExecutable
import Symbols
import TestData
import Testing

@Suite struct User32PDBTests {
  /// The routines of the synthetic apfnDispatch, slot by slot (one repeats, as tables can).
  static let slots = [
    "__fnCOPYDATA", "__fnCOPYGLOBALDATA", "__fnDWORD", "__fnNCDESTROY", "__fnDWORDOPTINLPMSG", "__fnINOUTDRAG",
    "__fnGETTEXTLENGTHS", "__fnINCNTOUTSTRING", "__ClientLoadLibrary", "__fnDWORD",
  ]

  /// C source of a user32.dll whose exported apfnDispatch lists `slots` (one routine per distinct name).
  static func source(_ slots: [String]) -> String {
    let routines = Array(Set(slots)).sorted().enumerated().map { i, name in
      "__declspec(noinline) long \(name)(void *p) { sink = \(i + 1); return \(i + 1)L + (p != 0); }"
    }
    return """
      static volatile int sink;
      __declspec(noinline) int Helper(int x) { sink = x; return x * 3; }
      \(routines.joined(separator: "\n"))
      int padding[37] = {1};
      __declspec(dllexport) void *apfnDispatch[] = { \(slots.joined(separator: ", ")) };

      """
  }

  /// Builds user32.dll + user32.pdb in a fresh folder, apfnDispatch listing `slots`.
  static func build(_ slots: [String] = slots) throws -> URL {
    try TestData.buildUser32(source: Self.source(slots), label: "user32")
  }

  /// name → RVA from `llvm-pdbutil dump -publics` and the DLL's section addresses from llvm-readobj.
  static func oracleRVAs(pdb: String, dll: String) throws -> [String: UInt64] {
    try LinkedImage(directory: URL(fileURLWithPath: dll).deletingLastPathComponent(), imagePath: dll, pdbPath: pdb)
      .publics
  }

  @Test func pdbNamesEverySlotOfApfnDispatch() throws {
    let dir = try Self.build()
    defer { try? FileManager.default.removeItem(at: dir) }
    let pdbPath = dir.appendingPathComponent("user32.pdb").path
    let dllPath = dir.appendingPathComponent("user32.dll").path
    let oracle = try Self.oracleRVAs(pdb: pdbPath, dll: dllPath)
    #expect(oracle.count == Set(Self.slots).count + 3, "\(oracle)")  // + Helper, padding, apfnDispatch

    // The PDB reader against the oracle, every public.
    let profile = try PDBProfile(path: pdbPath)
    for (name, rva) in oracle {
      #expect(profile.symbol(name)?.rva == rva, "\(name)")
    }

    // apfnDispatch as stored in the DLL file: absolute addresses at the preferred base.
    let pe = try PEImage.open(path: dllPath)
    let imageBase = pe.optionalHeader.imageBase
    let dispatchRVA = try #require(oracle["apfnDispatch"])
    #expect(pe.section(containing: UInt32(dispatchRVA))?.name == ".data")
    let bytes = try pe.read(rva: UInt32(dispatchRVA), count: Self.slots.count * 8)
    let table = stride(from: 0, to: bytes.count, by: 8).map { i in
      (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[i + $1]) << (8 * UInt64($1)) }
    }
    for (value, name) in zip(table, Self.slots) {
      #expect(value == imageBase + (oracle[name] ?? 0), "slot holding \(name)")
    }

    // The name map KCT builds from the PDB names each slot.
    let names = KernelCallbackTableScanner.routineNames(fromPDB: profile, base: imageBase)
    // Every public names its address: the routines, and Helper, padding and apfnDispatch too.
    #expect(Set(oracle.keys).isSubset(of: Set(names.values.flatMap { $0 })))
    let slotNames = KernelCallbackTableScanner.slotNames(table, names: names)
    #expect(slotNames.count == Self.slots.count)
    for (index, name) in Self.slots.enumerated() {
      #expect(slotNames[index] == [name], "slot \(index)")
    }
    // Mapped elsewhere, the same RVAs name the same slots.
    let base: UInt64 = 0x7ffa_99a4_0000
    let moved = KernelCallbackTableScanner.routineNames(fromPDB: profile, base: base)
    let movedSlots = table.map { $0 - imageBase + base }
    #expect(KernelCallbackTableScanner.slotNames(movedSlots, names: moved) == slotNames)
  }

  /// A user32 built like 19041's (the first 60 slots of the bundled win10-19041 table, named as a PDB
  /// names them: a listing's disambiguating `_` dropped, so slots 22 and 32 repeat a routine), except
  /// slot 2, whose routine is `__fnEMPTY` where the bundled table says `__fnDWORD`.
  static func nineteenLikeSlots() throws -> [String] {
    let layout = try #require(BundledCallbackTableNames.layout(forBuild: 19041))
    let bundled = Array(layout.names.prefix(60))
    return bundled.enumerated().map { index, name in
      index == 2 ? "__fnEMPTY" : String(name.reversed().drop { $0 == "_" }.reversed())
    }
  }

  /// The PDB names every slot by its public whatever the prefix (`__xxxClient*` at 50 and 55-59 are
  /// the slots issue 12 found unnamed), and the bundled table's one disagreement (slot 2) and its
  /// length (128 against 60) are reported while the PDB's names stay.
  @Test func pdbNamesXxxClientSlotsAndDisagreementsWithTheBundledTableAreReported() throws {
    let slots = try Self.nineteenLikeSlots()
    #expect(slots[50] == "__xxxClientCallDelegateThread")
    #expect(slots[55...59].allSatisfy { $0.hasPrefix("__xxxClient") })
    let dir = try Self.build(slots)
    defer { try? FileManager.default.removeItem(at: dir) }
    let pdbPath = dir.appendingPathComponent("user32.pdb").path
    let oracle = try Self.oracleRVAs(pdb: pdbPath, dll: dir.appendingPathComponent("user32.dll").path)
    let profile = try PDBProfile(path: pdbPath)
    // Slot values as the DLL stores them: the preferred base plus each routine's RVA (from llvm-pdbutil).
    let base: UInt64 = 0x1_8000_0000
    let table = try slots.map { name in base + (try #require(oracle[name], "\(name) in the publics")) }
    let names = KernelCallbackTableScanner.slotNames(
      table, names: KernelCallbackTableScanner.routineNames(fromPDB: profile, base: base))
    for (index, name) in slots.enumerated() {
      #expect(names[index] == [name], "slot \(index)")
    }

    var expected = ExpectedCallbackTable(address: base, slots: table, names: names, source: "pdb")
    let warnings = expected.applyBundledNames(build: 19041)
    #expect(expected.nameSource == "pdb")
    #expect(expected.bundledTable == "win10-19041")
    #expect(expected.names[2] == ["__fnEMPTY"])
    #expect(expected.names[50] == ["__xxxClientCallDelegateThread"])
    let slotWarnings = warnings.filter { $0.hasPrefix("slot ") }
    #expect(slotWarnings.count == 1, "\(warnings)")
    #expect(
      slotWarnings.first?.hasPrefix(
        "slot 2: user32.pdb names __fnEMPTY; bundled-names table win10-19041 names __fnDWORD") == true)
    #expect(warnings.contains { $0.contains("has 60 slots") && $0.contains("lists 128") })

    // Without the PDB's names the bundled ones are used and labelled.
    var unnamed = ExpectedCallbackTable(address: base, slots: table, names: [:], source: "majority")
    let bundledWarnings = unnamed.applyBundledNames(build: 19044)
    #expect(unnamed.nameSource == "bundled-names")
    #expect(unnamed.names[2] == ["__fnDWORD"])
    #expect(unnamed.names[50] == ["__xxxClientCallDelegateThread"])
    #expect(bundledWarnings.count == 1)
    // A build no bundled table covers leaves the slots unnamed and says so.
    var uncovered = ExpectedCallbackTable(address: base, slots: table, names: [:], source: "majority")
    let uncoveredWarnings = uncovered.applyBundledNames(build: 17763)
    #expect(uncovered.names.isEmpty && uncovered.nameSource == nil)
    #expect(uncoveredWarnings.first?.contains("no bundled apfnDispatch names for build 17763") == true)
  }
}
