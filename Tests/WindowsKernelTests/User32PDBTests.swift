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

  static var source: String {
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

  /// Builds user32.dll + user32.pdb in a fresh folder.
  static func build() throws -> URL {
    let dir = try TestData.temporaryDirectory("user32")
    let c = dir.appendingPathComponent("user32.c")
    try Self.source.write(to: c, atomically: true, encoding: .utf8)
    let obj = dir.appendingPathComponent("user32.obj").path
    let compile = try TestData.run(
      try TestData.which("clang"),
      ["--target=x86_64-pc-windows-msvc", "-g", "-gcodeview", "-O1", "-c", c.path, "-o", obj])
    guard compile.status == 0 else { throw TestDataError.tool("clang: \(compile.stderr)") }
    let link = try TestData.run(
      try TestData.which("lld-link"),
      [
        "/dll", "/noentry", "/nodefaultlib", "/debug", "/opt:noref", "/opt:noicf",
        "/pdb:" + dir.appendingPathComponent("user32.pdb").path,
        "/out:" + dir.appendingPathComponent("user32.dll").path,
        obj,
      ])
    guard link.status == 0 else { throw TestDataError.tool("lld-link: \(link.stderr)") }
    return dir
  }

  /// name → RVA from `llvm-pdbutil dump -publics` (addr = SSSS:OOOO, decimal) and the DLL's
  /// section addresses from `llvm-readobj --sections`.
  static func oracleRVAs(pdb: String, dll: String) throws -> [String: UInt64] {
    let sections = try TestData.run(try TestData.which("llvm-readobj"), ["--sections", dll])
    guard sections.status == 0 else { throw TestDataError.tool("llvm-readobj: \(sections.stderr)") }
    let addresses = sections.stdout.split(separator: "\n").compactMap { line -> UInt64? in
      let t = line.trimmingCharacters(in: .whitespaces)
      guard t.hasPrefix("VirtualAddress: 0x") else { return nil }
      return UInt64(t.dropFirst("VirtualAddress: 0x".count), radix: 16)
    }
    let publics = try TestData.run(try TestData.which("llvm-pdbutil"), ["dump", "-publics", pdb])
    guard publics.status == 0 else { throw TestDataError.tool("llvm-pdbutil: \(publics.stderr)") }
    var out: [String: UInt64] = [:]
    var pending: String?
    for line in publics.stdout.split(separator: "\n") {
      if line.contains("S_PUB32"), let open = line.firstIndex(of: "`"), let close = line.lastIndex(of: "`"),
        open < close
      {
        pending = String(line[line.index(after: open)..<close])
      } else if let name = pending, let range = line.range(of: "addr = ") {
        let parts = line[range.upperBound...].split(separator: ":")
        if parts.count == 2, let section = Int(parts[0]), let offset = UInt64(parts[1]), section >= 1,
          section <= addresses.count
        {
          out[name] = addresses[section - 1] + offset
        }
        pending = nil
      }
    }
    return out
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
    #expect(Set(names.values) == Set(Self.slots))
    let slotNames = KernelCallbackTableScanner.slotNames(table, names: names)
    #expect(slotNames.count == Self.slots.count)
    for (index, name) in Self.slots.enumerated() {
      #expect(slotNames[index] == name, "slot \(index)")
    }
    // Mapped elsewhere, the same RVAs name the same slots.
    let base: UInt64 = 0x7ffa_99a4_0000
    let moved = KernelCallbackTableScanner.routineNames(fromPDB: profile, base: base)
    let movedSlots = table.map { $0 - imageBase + base }
    #expect(KernelCallbackTableScanner.slotNames(movedSlots, names: moved) == slotNames)
  }
}
