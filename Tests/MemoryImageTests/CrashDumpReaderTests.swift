// Synthetic crash dumps (64/32-bit; full, kernel-summary and bitmap) read by our reader and by
// kdmp-parser (64-bit) or Volatility 3 (32-bit): same present pages, same bytes, same DTB.

import Foundation
import MemoryImage
import TestData
import Testing

@Suite("Crash dump reader")
struct CrashDumpReaderTests {
  /// Our reader's view of pages 0..<maxPage, compared with an oracle's.
  func compare(_ image: any PhysicalMemory, _ oracle: OraclePages, maxPage: UInt64) throws {
    var ours: [UInt64] = []
    for pfn in 0..<maxPage where image.isBacked(pfn * 0x1000) {
      ours.append(pfn)
      let bytes = try image.read(at: pfn * 0x1000, count: 0x1000)
      #expect(oracle.pages[pfn] == bytes, "page \(pfn)")
      #expect(bytes == Fixtures.page(pfn), "page \(pfn) content")
    }
    #expect(ours == oracle.present)
  }

  @Test("64-bit full dump with holes between runs, against kdmp-parser")
  func full64() throws {
    let runs: [(UInt64, UInt64)] = [(1, 3), (8, 2), (0x20, 5)]
    let path = try Fixtures.write(DumpBuilder.full(is64: true, runs: runs), name: "full64.dmp")
    let image = try MemoryImageOpener.open(path: path)
    #expect(image.formatName == "crashdump-full64")
    #expect(
      image.ranges == [
        .init(start: 0x1000, length: 0x3000), .init(start: 0x8000, length: 0x2000),
        .init(start: 0x20000, length: 0x5000),
      ])
    let oracle = try Oracles.kdmp(path)
    try compare(image, oracle, maxPage: 0x40)
    #expect((oracle.extra["dtb"] as? NSNumber)?.uint64Value == image.statedDirectoryTableBase)
    // A read spanning two runs that touch (pages 3 and 4 are not adjacent → error), and one inside.
    #expect(throws: MemoryImageError.self) { try image.read(at: 0x3F00, count: 0x200) }
    let across = try image.read(at: 0x1FF8, count: 16)
    #expect(across == Array(Fixtures.page(1)[0xFF8...]) + Array(Fixtures.page(2)[..<8]))
    #expect(
      try image.readUInt64(at: 0x1FFC)
        == UInt64(littleEndian: across[4..<12].withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }))
  }

  @Test("64-bit bitmap dumps ('FDMP' type 5, 'SDMP' type 5), against kdmp-parser", arguments: ["FDMP", "SDMP"])
  func bitmap64(_ signature: String) throws {
    let present: [UInt64] = [0, 1, 2, 5, 9, 10, 11, 12, 13, 40, 63, 64, 100]
    let bytes = DumpBuilder.bitmap(is64: true, dumpType: 5, signature: signature, present: present, bitCount: 128)
    let path = try Fixtures.write(bytes, name: "bitmap64.dmp")
    let image = try MemoryImageOpener.open(path: path)
    #expect(image.formatName == (signature == "FDMP" ? "crashdump-bitmap64" : "crashdump-kernel64"))
    let oracle = try Oracles.kdmp(path)
    #expect(oracle.present == present)
    try compare(image, oracle, maxPage: 128)
    #expect(image.crashDumpHeader?.dumpType == 5)
  }

  @Test("64-bit kernel summary dump (DumpType 2, 'SDMP'): pages where the bitmap says")
  func kernelSummary64() throws {
    // kdmp-parser and Volatility 3 do not read DumpType 2; the oracle is the fixture's own page content.
    let present: [UInt64] = [3, 4, 7, 31, 32, 33]
    let path = try Fixtures.write(
      DumpBuilder.bitmap(is64: true, dumpType: 2, signature: "SDMP", present: present, bitCount: 40), name: "k.dmp")
    let image = try MemoryImageOpener.open(path: path)
    #expect(image.formatName == "crashdump-kernel64")
    for pfn in UInt64(0)..<40 {
      #expect(image.isBacked(pfn * 0x1000) == present.contains(pfn))
      if present.contains(pfn) { #expect(try image.read(at: pfn * 0x1000, count: 0x1000) == Fixtures.page(pfn)) }
    }
  }

  @Test("32-bit full dump (PAE and not), against Volatility 3", arguments: [true, false])
  func full32(_ pae: Bool) throws {
    let runs: [(UInt64, UInt64)] = [(0, 2), (5, 3), (16, 1)]
    let path = try Fixtures.write(
      DumpBuilder.full(is64: false, runs: runs, dtb: 0x0031_4020, pae: pae), name: "full32.dmp")
    let image = try MemoryImageOpener.open(path: path)
    #expect(image.formatName == "crashdump-full32")
    let header = try #require(image.crashDumpHeader)
    #expect(header.paeEnabled == pae)
    #expect(image.statedPagingMode == (pae ? .x86PAE : .x86))
    #expect(image.statedDirectoryTableBase == (pae ? 0x0031_4020 : 0x0031_4000))
    let oracle = try Oracles.volatility("crash32", path, maxPage: 32)
    try compare(image, oracle, maxPage: 32)
    #expect((oracle.extra["dtb"] as? NSNumber)?.uint64Value == header.directoryTableBase)
  }

  @Test("32-bit bitmap dump (DumpType 5), against Volatility 3")
  func bitmap32() throws {
    let present: [UInt64] = [1, 2, 3, 8, 30, 31, 32, 33, 60]
    let path = try Fixtures.write(
      DumpBuilder.bitmap(is64: false, dumpType: 5, signature: "SDMP", present: present, bitCount: 64), name: "b32.dmp")
    let image = try MemoryImageOpener.open(path: path)
    #expect(image.formatName == "crashdump-kernel32")
    let oracle = try Oracles.volatility("crash32", path, maxPage: 64)
    try compare(image, oracle, maxPage: 64)
  }

  @Test("64-bit 'RDMP' dumps (DumpType 8, 9, 10), against kdmp-parser", arguments: [UInt32(8), 9, 10])
  func rdmp(_ dumpType: UInt32) throws {
    let path = try Fixtures.write(
      DumpBuilder.rdmp(dumpType: dumpType, ranges: [(2, 3), (9, 1), (0x30, 4)]), name: "rdmp\(dumpType).dmp")
    let image = try MemoryImageOpener.open(path: path)
    #expect(image.crashDumpHeader?.dumpType == dumpType)
    let oracle = try Oracles.kdmp(path)
    #expect(oracle.present == [2, 3, 4, 9, 0x30, 0x31, 0x32, 0x33])
    try compare(image, oracle, maxPage: 0x40)
  }
}
