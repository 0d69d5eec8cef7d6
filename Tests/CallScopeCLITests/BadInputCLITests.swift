// Issue 12's bad-input list, through the command line: each gives a clear error naming the file
// and the problem, exit status 2, nothing on stdout, and no file written (the input's folder and
// TMPDIR hold afterwards exactly what they held before).

import Foundation
import TestData
import Testing

#if canImport(Glibc)
  import Glibc
#endif

@Suite(.serialized) struct BadInputCLITests {
  /// A folder holding only the input, and an empty TMPDIR.
  struct Scene {
    let dir: URL
    let tmp: URL
    init(_ label: String) throws {
      dir = try TestData.temporaryDirectory(label)
      tmp = try TestData.temporaryDirectory("\(label)-tmp")
    }
    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }
    func remove() {
      try? FileManager.default.removeItem(at: dir)
      try? FileManager.default.removeItem(at: tmp)
    }
  }

  /// Runs callscope (under `timeout`, so a hang fails instead of blocking) and checks the contract.
  func expectRefused(
    _ arguments: [String], in scene: Scene, mentions: [String], sourceLocation: SourceLocation = #_sourceLocation
  ) throws {
    let before = Set(try FileManager.default.contentsOfDirectory(atPath: scene.dir.path))
    let result = try TestData.run(
      try TestData.which("timeout"), ["60", try CLI.binary()] + arguments, environment: ["TMPDIR": scene.tmp.path])
    #expect(
      result.status == 2, "exit \(result.status) (124: timed out): \(result.stderr)", sourceLocation: sourceLocation)
    #expect(result.stdout.isEmpty, "stdout: \(result.stdout.prefix(200))", sourceLocation: sourceLocation)
    for text in mentions {
      #expect(result.stderr.contains(text), "stderr lacks \(text): \(result.stderr)", sourceLocation: sourceLocation)
    }
    let after = Set(try FileManager.default.contentsOfDirectory(atPath: scene.dir.path))
    #expect(after == before, "files written: \(after.subtracting(before).sorted())", sourceLocation: sourceLocation)
    let tmp = try FileManager.default.contentsOfDirectory(atPath: scene.tmp.path)
    #expect(tmp.isEmpty, "temporary files left: \(tmp)", sourceLocation: sourceLocation)
  }

  @Test func zeroByteFile() throws {
    let scene = try Scene("empty")
    defer { scene.remove() }
    FileManager.default.createFile(atPath: scene.path("empty.raw"), contents: Data())
    try expectRefused(
      ["callbacks", "--offline", scene.path("empty.raw")], in: scene, mentions: ["empty.raw", "empty"])
  }

  @Test func directory() throws {
    let scene = try Scene("dir")
    defer { scene.remove() }
    try FileManager.default.createDirectory(atPath: scene.path("image.raw"), withIntermediateDirectories: false)
    try expectRefused(["info", scene.path("image.raw")], in: scene, mentions: ["image.raw", "a directory"])
  }

  @Test func fifoIsRefusedWithoutWaitingForAWriter() throws {
    let scene = try Scene("fifo")
    defer { scene.remove() }
    try #require(mkfifo(scene.path("image.raw"), 0o600) == 0)
    try expectRefused(["info", scene.path("image.raw")], in: scene, mentions: ["image.raw", "a FIFO"])
  }

  @Test func fileThatShrinksWhileReadIsAnErrorNotACrash() throws {
    let scene = try Scene("shrink")
    defer { scene.remove() }
    let path = scene.path("image.raw")
    let arguments = ["callbacks", "--carve", "--offline", "--format", "json", path]
    // Truncate once callscope has the file mapped; carving then reads every page, so a read past
    // the new end is certain unless the whole run ended first (then try again).
    var shrankWhileRunning = false
    for _ in 0..<5 where !shrankWhileRunning {
      let restore = try TestData.run("/bin/cp", ["--sparse=always", try CLI.image("win10-19041-clean"), path])
      try #require(restore.status == 0)
      let process = Process()
      process.executableURL = URL(fileURLWithPath: try CLI.binary())
      process.arguments = arguments
      process.environment = ProcessInfo.processInfo.environment.merging(["TMPDIR": scene.tmp.path]) { $1 }
      let out = Pipe()
      let err = Pipe()
      process.standardOutput = out
      process.standardError = err
      try process.run()
      let maps = "/proc/\(process.processIdentifier)/maps"
      var truncatedAlive = false
      for _ in 0..<5000 {
        if let text = try? String(contentsOfFile: maps, encoding: .utf8), text.contains(path) {
          _ = truncate(path, 4 << 20)
          truncatedAlive = process.isRunning
          break
        }
        if !process.isRunning { break }
        usleep(1000)
      }
      let stdout = out.fileHandleForReading.readDataToEndOfFile()
      let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
      process.waitUntilExit()
      #expect(process.terminationReason == .exit, "killed by signal \(process.terminationStatus): \(stderr)")
      if process.terminationStatus == 2 {
        shrankWhileRunning = true
        #expect(stderr.contains(path) && stderr.contains("the file shrank while being read"), "\(stderr)")
        #expect(stdout.isEmpty, "a report was written from a file that shrank")
      } else {
        // Only when every read came before the truncation: then the report is whole.
        #expect(process.terminationStatus == 0, "\(stderr)")
        #expect(
          (try? JSONSerialization.jsonObject(with: stdout)) != nil, "a partial report (truncated: \(truncatedAlive))")
      }
    }
    #expect(shrankWhileRunning, "the file was never truncated while callscope read it")
    let tmp = try FileManager.default.contentsOfDirectory(atPath: scene.tmp.path)
    #expect(tmp.isEmpty, "temporary files left: \(tmp)")
  }

  @Test func pdbWhoseStreamDirectoryPointsPastTheEnd() throws {
    // MSF 7.00 superblock (LLVM's MSF documentation): magic, BlockSize, FreeBlockMapBlock,
    // NumBlocks, NumDirectoryBytes, Unknown, BlockMapAddr; the block map names directory block 0x100.
    let scene = try Scene("pdb")
    defer { scene.remove() }
    var bytes = [UInt8](repeating: 0, count: 3 * 0x1000)
    let magic = Array("Microsoft C/C++ MSF 7.00\r\n".utf8) + [0x1A, 0x44, 0x53, 0, 0, 0]
    bytes.replaceSubrange(0..<32, with: magic)
    func put(_ offset: Int, _ value: UInt32) {
      withUnsafeBytes(of: value.littleEndian) { bytes.replaceSubrange(offset..<(offset + 4), with: $0) }
    }
    for (i, v) in [0x1000, 1, 3, 16, 0, 2].enumerated() { put(0x20 + 4 * i, UInt32(v)) }
    put(0x2000, 0x100)
    try Data(bytes).write(to: URL(fileURLWithPath: scene.path("bad.pdb")))
    try expectRefused(
      ["symbols", "show", "--offline", scene.path("bad.pdb")], in: scene,
      mentions: ["bad.pdb", "stream directory", "block 256", "3 blocks"])
  }

  @Test func truncatedJsonXz() throws {
    let scene = try Scene("isf-xz")
    defer { scene.remove() }
    let isf = try Data(
      contentsOf: TestData.shared("data/isf/ntkrnlmp.pdb/3177D31000BA7590DED335936C93E374-1.json.xz"))
    try isf.prefix(isf.count / 2).write(to: URL(fileURLWithPath: scene.path("cut.json.xz")))
    try expectRefused(
      ["symbols", "show", "--offline", scene.path("cut.json.xz")], in: scene, mentions: ["cut.json.xz", "truncated"])
  }

  @Test func isfWithATypeCycle() throws {
    let scene = try Scene("isf-cycle")
    defer { scene.remove() }
    let text = """
      {"metadata": {"format": "6.1.0", "windows": {"pdb": {"GUID": "00112233445566778899AABBCCDDEEFF", "age": 2,
        "database": "ntkrnlmp.pdb"}}},
       "base_types": {"pointer": {"size": 8, "kind": "int", "signed": false, "endian": "little"}},
       "symbols": {"a": {"address": 16}}, "enums": {},
       "user_types": {
         "_A": {"kind": "struct", "size": 8, "fields": {"b": {"offset": 0, "type": {"kind": "struct", "name": "_B"}}}},
         "_B": {"kind": "struct", "size": 8, "fields": {"a": {"offset": 0, "type": {"kind": "array", "count": 2,
           "subtype": {"kind": "struct", "name": "_A"}}}}}}}
      """
    try Data(text.utf8).write(to: URL(fileURLWithPath: scene.path("cycle.json")))
    try expectRefused(
      ["symbols", "show", "--offline", scene.path("cycle.json")], in: scene,
      mentions: ["cycle.json", "type cycle", "_A.b → _B.a → _A"])
  }

  @Test func crashDumpWhoseRunListOverlapsItself() throws {
    // DUMP_HEADER64 (wdm.h / kdmp-parser): 'PAGE' 'DU64' at 0, PhysicalMemoryBlock at 0x88
    // {NumberOfRuns, pad, NumberOfPages, Run[] {BasePage, PageCount}}, DumpType (1: full) at 0xF98,
    // then the pages from 0x2000. Run 1 starts inside run 0.
    let scene = try Scene("overlap")
    defer { scene.remove() }
    var header = [UInt8](repeating: 0, count: 0x2000)
    func put<T: FixedWidthInteger>(_ offset: Int, _ value: T) {
      withUnsafeBytes(of: value.littleEndian) { header.replaceSubrange(offset..<(offset + $0.count), with: $0) }
    }
    for i in stride(from: 0, to: 0x2000, by: 4) { put(i, UInt32(0x4547_4150)) }  // 'PAGE' filler
    put(0x4, UInt32(0x3436_5544))  // 'DU64'
    put(0x10, UInt64(0x1000))  // DirectoryTableBase
    put(0x88, UInt32(2))
    put(0x8C, UInt32(0))
    put(0x90, UInt64(16))
    put(0x98, UInt64(0))
    put(0xA0, UInt64(8))
    put(0xA8, UInt64(4))
    put(0xB0, UInt64(8))
    put(0xF98, UInt32(1))
    put(0xFA0, UInt64(0x2000 + 16 * 0x1000))
    try Data(header + [UInt8](repeating: 0, count: 16 * 0x1000)).write(
      to: URL(fileURLWithPath: scene.path("overlap.dmp")))
    try expectRefused(["info", scene.path("overlap.dmp")], in: scene, mentions: ["overlap.dmp", "overlaps"])
  }

  @Test func imageWithTwoPlausibleKernels() throws {
    // The clean image with a second PML4 entry aliasing the kernel's (the same ntoskrnl at a second
    // base) and the low stub — the only hint of which one runs — cleared.
    let scene = try Scene("two-kernels")
    defer { scene.remove() }
    let path = scene.path("two.raw")
    let copy = try TestData.run("/bin/cp", ["--sparse=always", try CLI.image("win10-19041-clean"), path])
    try #require(copy.status == 0, "\(copy.stderr)")
    let truth = try CLI.truth("win10-19041-clean")
    let dtb = try #require(CLI.number(truth["dtb"]))
    let base = try #require(CLI.number(truth["kernel_base"]))
    let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
    defer { try? handle.close() }
    try handle.seek(toOffset: dtb)
    let pml4 = try #require(try handle.read(upToCount: 0x1000))
    func entry(_ i: Int) -> UInt64 { pml4[(8 * i)..<(8 * i + 8)].reversed().reduce(0) { $0 << 8 | UInt64($1) } }
    let kernelSlot = Int((base >> 39) & 0x1FF)
    let free = try #require((0x180..<0x1FF).first { entry($0) == 0 && $0 != kernelSlot })
    try handle.seek(toOffset: dtb + UInt64(8 * free))
    handle.write(Data(pml4[(8 * kernelSlot)..<(8 * kernelSlot + 8)]))
    let lowStub = UInt64(0x7000)  // where `info` finds the clean image's PROCESSOR_START_BLOCK
    try handle.seek(toOffset: lowStub)
    handle.write(Data(count: 0x1000))
    try handle.close()
    let alias = 0xFFFF_0000_0000_0000 | UInt64(free) << 39 | (base & 0x7F_FFFF_FFFF)
    try expectRefused(
      ["callbacks", "--offline", path], in: scene,
      mentions: [
        "two.raw", "2 plausible ntoskrnl images", "0x" + String(base, radix: 16), "0x" + String(alias, radix: 16),
        "--kernel-base",
      ])
    // Given the base, the kernel is read as usual.
    let chosen = try CLI.run(["modules", "--offline", "--kernel-base", "0x" + String(base, radix: 16), path])
    #expect(chosen.status == 0, "\(chosen.stderr)")
  }
}
