// End to end: the synthetic Windows 10 raw image converted to a 64-bit full crash dump, read
// back by our reader (every byte), by kdmp-parser (sampled pages, DTB) and by Volatility 3
// (windows.info: kernel base and DTB from the truth file).

import Foundation
import MemoryImage
import TestData
import Testing

#if canImport(Glibc)
  import Glibc
#endif

@Suite("Crash dump writer", .serialized)
struct CrashDumpWriterTests {
  struct Fixture: Sendable {
    var raw: String
    var dump: String
    var kernelBase: UInt64
    var dtb: UInt64
    var parameters: CrashDumpWriter.Parameters
  }

  static func makeFixture() throws -> Fixture {
    let raw = try TestData.decompressed("images/win10-19041-clean.raw.xz")
    let truth = try #require(
      try TestData.json(TestData.shared("images/win10-19041-clean.truth.json").path) as? [String: Any])
    let symbols = try #require(truth["symbols_used"] as? [String: Any])
    let kdbg = try #require(truth["kdbg"] as? [String: Any])
    let parameters = CrashDumpWriter.Parameters(
      dtb: try #require(TestData.hex(truth["dtb"])), kdDebuggerDataBlock: try #require(TestData.hex(kdbg["va"])),
      psLoadedModuleList: try #require(TestData.hex(symbols["PsLoadedModuleList"])),
      psActiveProcessHead: try #require(TestData.hex(symbols["PsActiveProcessHead"])), pfnDataBase: 0,
      numberProcessors: 1, minorVersion: 19041, bugCheckCode: 0xE2)
    let dir = try TestData.temporaryDirectory("dmpwriter")
    let dump = dir.appendingPathComponent("win10.dmp").path
    try CrashDumpWriter.writeFull64(from: try MemoryImageOpener.open(path: raw), to: dump, header: parameters)
    return Fixture(
      raw: raw, dump: dump, kernelBase: try #require(TestData.hex(truth["kernel_base"])), dtb: parameters.dtb,
      parameters: parameters)
  }

  static let fixture = Result { try makeFixture() }

  @Test("our reader: header values and every backed byte")
  func readBack() throws {
    let f = try Self.fixture.get()
    let source = try MemoryImageOpener.open(path: f.raw)
    let dump = try MemoryImageOpener.open(path: f.dump)
    #expect(dump.formatName == "crashdump-full64")
    let header = try #require(dump.crashDumpHeader)
    #expect(header.directoryTableBase == 0x1AF000)
    #expect(header.dumpType == 1)
    #expect(header.machineImageType == 0x8664)
    #expect(header.majorVersion == 0xF && header.minorVersion == 19041)
    #expect(header.kdDebuggerDataBlock == 0xFFFF_F803_6140_0B20)  // truth kdbg.va
    #expect(header.runs == [CrashDumpHeader.Run(basePage: 0, pageCount: 0x10000)])
    #expect(dump.statedPagingMode == .x64FourLevel)
    #expect(dump.statedDirectoryTableBase == 0x1AF000)
    #expect(dump.ranges == source.ranges)
    #expect(dump.fileSize == 0x2000 + source.backedBytes)
    // Every byte, compared in 4 MiB blocks.
    let block = 4 << 20
    var address: UInt64 = 0
    var mismatches: [UInt64] = []
    while address < source.highestAddress {
      let a = try source.read(at: address, count: block)
      let b = try dump.read(at: address, count: block)
      if !Fixtures.sameBytes(a, b) { mismatches.append(address) }
      address += UInt64(block)
    }
    #expect(mismatches.isEmpty)
  }

  @Test("kdmp-parser opens it: DTB, dump type and sampled pages equal the source")
  func kdmpParser() throws {
    let f = try Self.fixture.get()
    let script = """
      import kdmp_parser, json, sys
      d = kdmp_parser.KernelDumpParser(sys.argv[1])
      raw = open(sys.argv[2], 'rb')
      checked = bad = 0
      for pfn in list(range(0, 0x10000, 97)) + [0x1af, 0x3a00, 0x7]:
          page = d.read_physical_page(pfn * 0x1000)
          raw.seek(pfn * 0x1000); want = raw.read(0x1000)
          checked += 1
          if page is None or bytes(page) != want: bad += 1
      print(json.dumps({"dtb": d.directory_table_base, "type": int(d.type), "checked": checked, "bad": bad,
                        "kdbg": d.header.KdDebuggerDataBlock, "pages": len(list(d.pages.keys()))}))
      """
    let result = try TestData.run(try Fixtures.tool("python3"), ["-c", script, f.dump, f.raw])
    #expect(result.status == 0, "\(result.stderr)")
    let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    #expect((json["dtb"] as? NSNumber)?.uint64Value == 0x1AF000)
    #expect((json["type"] as? NSNumber)?.intValue == 1)
    #expect((json["bad"] as? NSNumber)?.intValue == 0)
    #expect(((json["checked"] as? NSNumber)?.intValue ?? 0) > 600)
    #expect((json["pages"] as? NSNumber)?.intValue == 0x10000)
    #expect((json["kdbg"] as? NSNumber)?.uint64Value == f.parameters.kdDebuggerDataBlock)
  }

  @Test("Volatility 3 windows.info reports the truth kernel base and DTB")
  func volatility() throws {
    let f = try Self.fixture.get()
    let sym = try TestData.temporaryDirectory("dmpsym")
    let folder = sym.appendingPathComponent("windows/ntkrnlmp.pdb")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let isf = "3177D31000BA7590DED335936C93E374-1.json.xz"
    try FileManager.default.copyItem(
      at: TestData.shared("data/isf/ntkrnlmp.pdb/\(isf)"), to: folder.appendingPathComponent(isf))
    // A private cache: Volatility's shared one is not safe against concurrent runs.
    let cache = sym.appendingPathComponent("cache").path
    try FileManager.default.createDirectory(atPath: cache, withIntermediateDirectories: true)
    let result = try TestData.run(
      try Fixtures.tool("vol"),
      ["-q", "--offline", "-s", sym.path, "--cache-path", cache, "-r", "json", "-f", f.dump, "windows.info"])
    #expect(result.status == 0, "\(result.stderr)")
    let jsonText = String(result.stdout.drop { $0 != "[" })
    let rows = try #require(try JSONSerialization.jsonObject(with: Data(jsonText.utf8)) as? [[String: Any]])
    var values: [String: String] = [:]
    for row in rows { if let k = row["Variable"] as? String, let v = row["Value"] as? String { values[k] = v } }
    #expect(TestData.hex(values["Kernel Base"]) == f.kernelBase & 0xFFFF_FFFF_FFFF)  // Volatility cuts to 48 bits
    #expect(TestData.hex(values["DTB"]) == f.dtb)
    #expect(values["memory_layer"]?.contains("WindowsCrashDump64Layer") == true)
  }
}
