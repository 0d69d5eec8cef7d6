// Unit tests on byte literals and synthetic files: version-info alignment, forwarders and aliases,
// CodeView GUID order, the header probe, the function-table lookup, and a seeded mutation loop.

import BinaryReading
import Foundation
import ImageBuilder
import PortableExecutable
import Testing

@Suite struct ParsingUnitTests {
  /// A VS_VERSIONINFO whose keys have odd and even lengths, so every 32-bit padding rule is used.
  static func versionBlob() -> [UInt8] {
    typealias W = VersionBlockWriter
    let table1 = W.block(
      key: "040904B0", type: 1, value: [], valueLength: 0,
      children: [W.string("ProductName", "Wine"), W.string("Ab", ""), W.string("FileVersion", "1.2.3.4 (x)")])
    let table2 = W.block(
      key: "040704E4", type: 1, value: [], valueLength: 0,
      children: [W.string("ProductName", "Wein \u{00FC}"), W.string("Comments", "zweite")])
    let strings = W.block(key: "StringFileInfo", type: 1, value: [], valueLength: 0, children: [table1, table2])
    let translation = W.block(
      key: "Translation", type: 0, value: W.le32([0x04B0_0409, 0x04E4_0407]), valueLength: 8, children: [])
    let vars = W.block(key: "VarFileInfo", type: 1, value: [], valueLength: 0, children: [translation])
    return W.block(
      key: "VS_VERSION_INFO", type: 0,
      value: W.fixed(file: (0x000A_0000, 0x4A61_0587), product: (0x0006_0001, 0x1DB1_5DFB)),
      valueLength: 52, children: [strings, vars])
  }

  @Test func versionInfoFromBytesWithAlignment() throws {
    let info = try PEImage.parseVersionInfo(Self.versionBlob())
    #expect(info.fileVersion == PEVersionNumber(major: 10, minor: 0, build: 19041, revision: 1415))
    #expect(info.fileVersion?.description == "10.0.19041.1415")
    #expect(info.productVersion?.description == "6.1.7601.24059")
    #expect(info.fixed?.fileType == 3 && info.fixed?.fileSubtype == 7 && info.fixed?.fileFlagsMask == 0x3F)
    #expect(info.stringTables.map(\.key) == ["040904B0", "040704E4"])
    #expect(
      info.stringTables[0].strings == [
        PEVersionString(key: "ProductName", value: "Wine"), PEVersionString(key: "Ab", value: ""),
        PEVersionString(key: "FileVersion", value: "1.2.3.4 (x)"),
      ])
    #expect(info.string("ProductName") == "Wine")  // the first table wins
    #expect(info.strings["Comments"] == "zweite")
    #expect(info.stringTables[1].strings.first?.value == "Wein \u{00FC}")
    #expect(info.translations == [0x04B0_0409, 0x04E4_0407])
  }

  @Test func versionInfoThroughTheResourceTreeInBothLayouts() throws {
    var pe = SyntheticPE()
    pe.addVersionResource(Self.versionBlob())
    for layout in [PELayout.file, .mapped] {
      var bytes = pe.bytes
      if layout == .mapped {  // place the section at its RVA, as the loader does
        bytes = Array(pe.bytes.prefix(0x400)) + [UInt8](repeating: 0, count: 0xC00) + Array(pe.bytes[0x400..<0x1400])
      }
      let image = try PEImage(source: InMemoryByteSource(bytes), layout: layout)
      let resources = try image.resources(type: PEResourceType.version)
      #expect(
        resources == [
          PEResource(nameID: 1, languageID: 0x409, dataRVA: 0x1900, size: UInt32(Self.versionBlob().count), codePage: 0)
        ])
      #expect(try image.versionInfo() == PEImage.parseVersionInfo(Self.versionBlob()))
    }
  }

  @Test func forwardersAliasesAndOrdinalOnlyExports() throws {
    var pe = SyntheticPE()
    pe.addExports([("KeBugCheckEx", 0x1800), ("Forwarded", 0x1500), ("Alias", 0x1800)])
    pe.putRVA(0x1500, Array("NTOSKRNL.KeBugCheck".utf8) + [0])  // inside the directory [0x1000, 0x1600)
    // Address table: slot 0 code, slot 1 exported by ordinal only, slot 2 the forwarder string.
    pe.put32(rva: 0x1100, 0x1800)
    pe.put32(rva: 0x1104, 0x1808)
    pe.put32(rva: 0x1108, 0x1500)
    // Ordinal table, in name-table order: KeBugCheckEx → 0, Forwarded → 2, Alias → 0.
    pe.put16(rva: 0x1300, 0)
    pe.put16(rva: 0x1302, 2)
    pe.put16(rva: 0x1304, 0)
    let exports = try pe.image().exports()
    #expect(exports.dllName == "synth.sys")
    #expect(exports.ordinalBase == 1)
    #expect(
      exports.entries == [
        PEExport(ordinal: 1, name: "KeBugCheckEx", aliases: ["Alias"], rva: 0x1800, forwarder: nil),
        PEExport(ordinal: 2, name: nil, aliases: [], rva: 0x1808, forwarder: nil),
        PEExport(ordinal: 3, name: "Forwarded", aliases: [], rva: 0x1500, forwarder: "NTOSKRNL.KeBugCheck"),
      ])
    #expect(exports.entry(named: "Alias")?.ordinal == 1)
    #expect(exports.entry(ordinal: 2)?.rva == 0x1808)
    #expect(exports.rva(of: "Missing") == nil)
  }

  @Test func codeViewGUIDInSymbolStoreOrder() throws {
    // Stored bytes as llvm-readobj printed them for a PDB whose own header llvm-pdbutil shows as
    // {3711556A-8F58-EEDC-4C4C-44205044422E}.
    let stored: [UInt8] = [
      0x6A, 0x55, 0x11, 0x37, 0x58, 0x8F, 0xDC, 0xEE, 0x4C, 0x4C, 0x44, 0x20, 0x50, 0x44, 0x42, 0x2E,
    ]
    var pe = SyntheticPE()
    pe.addCodeView(Array("RSDS".utf8) + stored + [2, 0, 0, 0] + Array("C:\\build\\ntkrnlmp.pdb".utf8) + [0])
    let cv = try #require(try pe.image().codeView())
    #expect(cv.format == .rsds)
    #expect(cv.guid == stored)
    #expect(cv.guidString == "3711556A8F58EEDC4C4C44205044422E")
    #expect(cv.age == 2)
    #expect(cv.symbolStoreKey == "3711556A8F58EEDC4C4C44205044422E2")
    #expect(cv.pdbFileName == "ntkrnlmp.pdb")

    var nb10 = SyntheticPE()
    nb10.addCodeView(
      Array("NB10".utf8) + [0, 0, 0, 0, 0x78, 0x56, 0x34, 0x12, 5, 0, 0, 0] + Array("old.pdb".utf8) + [0])
    let old = try #require(try nb10.image().codeView())
    #expect(old.format == .nb10 && old.signature == 0x1234_5678 && old.age == 5 && old.pdbPath == "old.pdb")
    #expect(old.symbolStoreKey == "123456785")
  }

  @Test(arguments: Wine.files)
  func probeFindsTheHeaderOfARealFile(_ name: String) throws {
    let path = Wine.path(name)
    let page = try MappedFile(path: path).readBytes(at: 0, count: 0x1000)
    let probe = try #require(PEImage.probeHeader(page))
    let report = try readobj(path, ["--file-headers"])
    #expect(UInt64(probe.sizeOfImage) == report.first("ImageOptionalHeader")?.number("SizeOfImage"))
    #expect(UInt64(probe.timeDateStamp) == report.first("ImageFileHeader")?.number("TimeDateStamp"))
    #expect(UInt64(probe.machine) == report.first("ImageFileHeader")?.number("Machine"))
    #expect(UInt64(probe.ntHeaderOffset) == report.first("DOSHeader")?.number("AddressOfNewExeHeader"))
    #expect(probe.is64Bit)
  }

  @Test func probeRejectsNonHeaders() {
    let good = SyntheticPE().bytes
    #expect(PEImage.probeHeader(Array(good.prefix(0x1000)))?.sizeOfImage == 0x2000)
    #expect(PEImage.probeHeader([UInt8](repeating: 0, count: 0x1000)) == nil)
    #expect(PEImage.probeHeader(Array(good.prefix(0x40))) == nil)  // e_lfanew beyond the bytes
    var bad = good
    bad[SyntheticPE.ntOffset + 1] = 0x58  // "PX"
    #expect(PEImage.probeHeader(bad) == nil)
    var rom = good
    rom[SyntheticPE.optionalOffset] = 0x07
    rom[SyntheticPE.optionalOffset + 1] = 0x01
    #expect(PEImage.probeHeader(rom) == nil)
  }

  @Test func functionTableLookup() {
    let table = [
      RuntimeFunction(beginAddress: 0x1000, endAddress: 0x1010, unwindInfoAddress: 0x5000),
      RuntimeFunction(beginAddress: 0x1010, endAddress: 0x1080, unwindInfoAddress: 0x5008),
      RuntimeFunction(beginAddress: 0x1100, endAddress: 0x1101, unwindInfoAddress: 0x5010),
    ]
    #expect(RuntimeFunction.lookup(0x0FFF, in: table) == nil)
    #expect(RuntimeFunction.lookup(0x1000, in: table) == table[0])
    #expect(RuntimeFunction.lookup(0x100F, in: table) == table[0])
    #expect(RuntimeFunction.lookup(0x1010, in: table) == table[1])
    #expect(RuntimeFunction.lookup(0x1080, in: table) == nil)
    #expect(RuntimeFunction.lookup(0x1100, in: table) == table[2])
    #expect(RuntimeFunction.lookup(0x1101, in: table) == nil)
    #expect(RuntimeFunction.lookup(0x1000, in: []) == nil)
  }

  /// Flips random bytes of a valid file and parses every part: each call returns or throws a
  /// PEError, never traps or hangs. The seed is printed so a failure can be replayed.
  @Test func mutatedFilesNeverTrap() throws {
    var pe = SyntheticPE()
    pe.addExports([("A", 0x1800), ("B", 0x1500)])
    pe.putRVA(0x1500, Array("X.Y".utf8) + [0])
    pe.addVersionResource(Self.versionBlob())
    pe.addCodeView(Array("RSDS".utf8) + [UInt8](repeating: 7, count: 20) + Array("a.pdb".utf8) + [0])
    pe.setDirectory(.exception, rva: 0x1C00, size: 24)
    let seed = UInt64(ProcessInfo.processInfo.environment["PE_FUZZ_SEED"] ?? "") ?? 0x5EED_0001
    print("mutatedFilesNeverTrap seed \(seed)")
    var rng = SeededGenerator(seed: seed)
    func next() -> UInt64 { rng.next() }
    // Bytes worth hitting: headers and the directories; flips elsewhere change nothing.
    let targets = Array(0..<0x200) + Array(SyntheticPE.offset(0x1000)..<SyntheticPE.offset(0x1C20))
    var parsed = 0
    for _ in 0..<3000 {
      var bytes = pe.bytes
      for _ in 0..<(1 + Int(next() % 4)) {
        let at = targets[Int(next() % UInt64(targets.count))]
        bytes[at] = next() % 3 == 0 ? 0xFF : UInt8(truncatingIfNeeded: next())
      }
      for layout in [PELayout.file, .mapped] {
        guard let image = try? PEImage(source: InMemoryByteSource(bytes), layout: layout) else { continue }
        parsed += 1
        _ = try? image.exports()
        _ = try? image.debugDirectory()
        _ = try? image.codeView()
        _ = try? image.versionInfo()
        _ = try? image.exceptionDirectory()
        _ = try? image.read(rva: 0x1000, count: 0x100)
        _ = image.section(containing: 0x1800)
        _ = PEImage.probeHeader(bytes)
      }
    }
    #expect(parsed > 1000)  // most mutations leave the headers readable, so the directories are exercised
  }
}
