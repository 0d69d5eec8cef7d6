// `callscope convert IMAGE --to dmp OUT` checked by two readers this project did not write:
// kdmp-parser reads the DUMP_HEADER64 fields (compared with the images' truth files), MemProcFS
// opens the dump as a crash dump (no "Unable to verify crash-dump supplied DTB") and must list the
// processes and kernel modules `callscope processes/modules` list on the source image.

import Foundation
import TestData
import Testing

@Suite(.serialized) struct ConvertPeerTests {
  /// Images with a bundled profile, and the one whose kernel no symbol file matches (its header
  /// values then come from exports and code).
  static let images = [
    "win10-19041-clean", "win10-19041-rootkit", "win10-19041-kct-hijack", "win10-19041-clean-varied-unknown",
  ]

  static let kdmpHeader = """
    import sys, json, kdmp_parser
    d = kdmp_parser.KernelDumpParser(sys.argv[1])  # kept alive: the header object borrows from it
    h = d.header
    print(json.dumps({'DirectoryTableBase': h.DirectoryTableBase, 'KdDebuggerDataBlock': h.KdDebuggerDataBlock,
        'PsLoadedModuleList': h.PsLoadedModuleList, 'PsActiveProcessHead': h.PsActiveProcessHead,
        'PfnDatabase': h.PfnDatabase}))
    """

  /// Prints MemProcFS's own messages (-printf -v), then one `RESULT {json}` line.
  static let memProcFS = """
    import sys, json, memprocfs
    vmm = memprocfs.Vmm(['-device', sys.argv[1], '-printf', '-v', '-disable-python', '-disable-symbolserver'])
    procs = [[p.pid, p.name, p.eprocess] for p in vmm.process_list()]
    mods = [[m.name, m.base] for m in vmm.kernel.process.module_list()]
    sys.stdout.flush()
    print('RESULT ' + json.dumps({'processes': procs, 'modules': mods}), flush=True)
    """

  /// Converts `name` to a dump; returns its path and callscope's stderr.
  func convert(_ name: String) throws -> (dump: String, stderr: String) {
    let out = try TestData.temporaryDirectory("convert").appendingPathComponent("\(name).dmp").path
    let result = try CLI.run(["convert", "--offline", try CLI.image(name), "--to", "dmp", out])
    try #require(result.status == 0, "convert \(name): \(result.stderr)")
    #expect(result.stdout.isEmpty, "convert writes nothing on stdout: \(result.stdout)")
    return (out, result.stderr)
  }

  func python(_ script: String, _ arguments: [String]) throws -> TestData.ProcessResult {
    let result = try TestData.run(try TestData.which("python3"), ["-c", script] + arguments)
    try #require(result.status == 0, "python3 failed (peers come from scripts/install-test-deps): \(result.stderr)")
    return result
  }

  @Test("kdmp-parser reads the truth's DTB, KdDebuggerDataBlock and list heads from the header", arguments: images)
  func headerFieldsMatchTheTruth(name: String) throws {
    let (dump, stderr) = try convert(name)
    defer { try? FileManager.default.removeItem(atPath: dump) }
    let header = try #require(try CLI.json(try python(Self.kdmpHeader, [dump]).stdout) as? [String: Any])
    let truth = try CLI.truth(name)
    let symbols = try #require(truth["symbols_used"] as? [String: Any])
    #expect(CLI.number(header["DirectoryTableBase"]) == CLI.number(truth["dtb"]))
    for (field, symbol) in [
      ("PsLoadedModuleList", "PsLoadedModuleList"), ("PsActiveProcessHead", "PsActiveProcessHead"),
    ] {
      let expected = try #require(CLI.number(symbols[symbol]), "truth lacks \(symbol)")
      #expect(CLI.number(header[field]) == expected, "\(field) \(String(describing: header[field]))")
    }
    // KdDebuggerDataBlock is a symbol-file answer: the truth's address, or 0 only with a warning naming it.
    let kdbg = try #require(CLI.number(symbols["KdDebuggerDataBlock"]), "truth lacks KdDebuggerDataBlock")
    let written = CLI.number(header["KdDebuggerDataBlock"])
    if written == 0 {
      #expect(stderr.contains("warning: KdDebuggerDataBlock left 0"), "0 without a warning: \(stderr)")
      let bundled = (truth["ntoskrnl_pdb"] as? [String: Any])?["bundled"] as? Bool
      #expect(bundled == false, "the bundled profile names KdDebuggerDataBlock, yet it was left 0: \(stderr)")
    } else {
      #expect(written == kdbg)
    }
    // Every field left 0 is named on stderr, and none is named that was written.
    let pfn = CLI.number(header["PfnDatabase"])
    #expect((pfn == 0) == stderr.contains("warning: PfnDataBase"), "PfnDatabase \(String(describing: pfn)): \(stderr)")
  }

  @Test("MemProcFS opens the dump, trusts its DTB and lists callscope's processes and modules", arguments: images)
  func memProcFSListsTheSameProcessesAndModules(name: String) throws {
    let image = try CLI.image(name)
    let (dump, _) = try convert(name)
    defer { try? FileManager.default.removeItem(atPath: dump) }
    let output = try python(Self.memProcFS, [dump]).stdout
    #expect(output.contains("as Microsoft Crash Dump"), "MemProcFS did not open it as a crash dump: \(output)")
    #expect(!output.contains("Unable to verify crash-dump supplied DTB"), "\(output)")
    let line = try #require(output.split(separator: "\n").last { $0.hasPrefix("RESULT ") }, "\(output)")
    let peer = try #require(try CLI.json(String(line.dropFirst(7))) as? [String: Any])

    let processes = try CLI.run(["processes", "--offline", "--format", "json", image])
    try #require(processes.status == 0, "\(processes.stderr)")
    let ours = try #require((try CLI.json(processes.stdout) as? [String: Any])?["processes"] as? [[String: Any]])
    let ourProcesses = Set(ours.map { "\(CLI.number($0["pid"]) ?? 0) \($0["name"] ?? "") \($0["eprocess"] ?? "")" })
    let peerProcesses = Set(
      (peer["processes"] as? [[Any]] ?? []).map { p in
        "\(CLI.number(p[0]) ?? 0) \(p[1]) 0x\(String(CLI.number(p[2]) ?? 0, radix: 16))"
      })
    #expect(!ourProcesses.isEmpty)
    #expect(peerProcesses == ourProcesses)

    let modules = try CLI.run(["modules", "--offline", "--format", "json", image])
    try #require(modules.status == 0, "\(modules.stderr)")
    let ourRows = try #require((try CLI.json(modules.stdout) as? [String: Any])?["modules"] as? [[String: Any]])
    let ourModules = Set(ourRows.map { "\($0["name"] ?? "") \($0["base"] ?? "")" })
    let peerModules = Set(
      (peer["modules"] as? [[Any]] ?? []).map { m in "\(m[0]) 0x\(String(CLI.number(m[1]) ?? 0, radix: 16))" })
    #expect(!ourModules.isEmpty)
    #expect(peerModules == ourModules)
  }

  /// The physical address of `va` through the x64 4-level tables at `dtb` of the raw image (Intel
  /// SDM vol. 3A §4.5: 9 index bits per level, PS (bit 7) ends the walk at the PDPT or PD).
  static func physical(_ va: UInt64, dtb: UInt64, in handle: FileHandle) throws -> UInt64 {
    var table = dtb
    for (level, shift) in [39, 30, 21, 12].enumerated() {
      try handle.seek(toOffset: table + ((va >> UInt64(shift)) & 0x1FF) * 8)
      let bytes = try #require(try handle.read(upToCount: 8))
      let entry = bytes.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
      try #require(entry & 1 == 1, "level \(level) entry not present for \(String(va, radix: 16))")
      let frame = entry & 0x000F_FFFF_FFFF_F000
      if shift == 12 || (shift < 39 && entry & 0x80 != 0) {
        let mask = (UInt64(1) << UInt64(shift)) - 1
        return (frame & ~mask) | (va & mask)
      }
      table = frame
    }
    return 0
  }

  @Test("without symbols, a plaintext debugger data block gives KdDebuggerDataBlock and PfnDataBase")
  func symbolLessHeaderFromAPlaintextDebuggerDataBlock() throws {
    // The image whose kernel no symbol file matches, with its (encoded) KDBG replaced by a plaintext
    // KDDEBUGGER_DATA64 header (wdbgexts.h): 'KDBG', Size, KernBase, PsLoadedModuleList at 0x48,
    // PsActiveProcessHead at 0x50 and at 0xC0 the address of an MmPfnDatabase variable planted after it.
    let name = "win10-19041-clean-varied-unknown"
    let truth = try CLI.truth(name)
    let symbols = try #require(truth["symbols_used"] as? [String: Any])
    let kdbg = try #require(CLI.number(symbols["KdDebuggerDataBlock"]))
    let base = try #require(CLI.number(truth["kernel_base"]))
    let dtb = try #require(CLI.number(truth["dtb"]))
    let dir = try TestData.temporaryDirectory("kdbg")
    defer { try? FileManager.default.removeItem(at: dir) }
    let image = dir.appendingPathComponent("image.raw").path
    let copy = try TestData.run("/bin/cp", ["--sparse=always", try CLI.image(name), image])
    try #require(copy.status == 0, "\(copy.stderr)")
    let pfnVariable = kdbg + 0x380
    let pfnDatabase: UInt64 = 0xFFFF_E380_0000_0000
    do {
      let handle = try FileHandle(forUpdating: URL(fileURLWithPath: image))
      defer { try? handle.close() }
      let pa = try Self.physical(kdbg, dtb: dtb, in: handle)
      try #require(try Self.physical(pfnVariable, dtb: dtb, in: handle) == pa + 0x380, "one page")
      var block = [UInt8](repeating: 0, count: 0x388)
      func put(_ offset: Int, _ value: UInt64, width: Int = 8) {
        for i in 0..<width { block[offset + i] = UInt8(truncatingIfNeeded: value >> UInt64(8 * i)) }
      }
      put(0x10, 0x4742_444B, width: 4)
      put(0x14, 0x368, width: 4)
      put(0x18, base)
      put(0x48, try #require(CLI.number(symbols["PsLoadedModuleList"])))
      put(0x50, try #require(CLI.number(symbols["PsActiveProcessHead"])))
      put(0xC0, pfnVariable)
      put(0x380, pfnDatabase)
      try handle.seek(toOffset: pa)
      handle.write(Data(block))
    }
    let out = dir.appendingPathComponent("image.dmp").path
    let result = try CLI.run(["convert", "--offline", image, "--to", "dmp", out])
    try #require(result.status == 0, "\(result.stderr)")
    #expect(!result.stderr.contains("warning"), "\(result.stderr)")
    let header = try #require(try CLI.json(try python(Self.kdmpHeader, [out]).stdout) as? [String: Any])
    #expect(CLI.number(header["KdDebuggerDataBlock"]) == kdbg)
    #expect(CLI.number(header["PfnDatabase"]) == pfnDatabase)
    #expect(CLI.number(header["PsLoadedModuleList"]) == CLI.number(symbols["PsLoadedModuleList"]))
  }
}
