// FileRuns: where a scanner finds each format's memory in the file. Only page contents are listed,
// at the offsets the formats define (64-bit full dump: pages from 0x2000 in run order; bitmap dump:
// present pages from the summary's first-page offset, in PFN order); headers, bitmaps and absent
// pages never are. The bytes of every run are those `read(at:count:)` returns.

import BinaryReading
import Foundation
import MemoryImage
import Testing

@Suite struct FileRunsTests {
  /// Every run's file bytes equal the image's physical bytes.
  static func checkContents(_ memory: any PhysicalMemory, _ runs: FileRuns) throws {
    for run in runs.runs {
      let fromFile = try runs.file.readBytes(at: run.fileOffset, count: Int(run.length))
      #expect(try memory.read(at: run.physical, count: Int(run.length)) == fromFile)
      #expect(memory.isBacked(run.physical) && run.backedEnd > run.physical)
    }
  }

  @Test func fullDumpRunsStartAfterTheHeader() throws {
    let path = try Fixtures.write(DumpBuilder.full(is64: true, runs: [(0, 2), (4, 1)]), name: "full.dmp")
    let memory = try MemoryImageOpener.open(path: path)
    let runs = try #require(memory.fileRuns)
    #expect(
      runs.runs == [
        FileRun(physical: 0, length: 0x2000, fileOffset: 0x2000, backedEnd: 0x2000),
        FileRun(physical: 0x4000, length: 0x1000, fileOffset: 0x4000, backedEnd: 0x5000),
      ])
    try Self.checkContents(memory, runs)
  }

  @Test func bitmapDumpListsPresentPagesOnly() throws {
    let bytes = DumpBuilder.bitmap(is64: true, dumpType: 5, signature: "SDMP", present: [1, 2, 5], bitCount: 64)
    let path = try Fixtures.write(bytes, name: "bitmap.dmp")
    let memory = try MemoryImageOpener.open(path: path)
    let runs = try #require(memory.fileRuns)
    // The summary header at 0x2000 (0x38 bytes) and its 8-byte bitmap; pages from the next page.
    let first: UInt64 = 0x3000
    #expect(
      runs.runs == [
        FileRun(physical: 0x1000, length: 0x2000, fileOffset: first, backedEnd: 0x3000),
        FileRun(physical: 0x5000, length: 0x1000, fileOffset: first + 0x2000, backedEnd: 0x6000),
      ])
    #expect(runs.totalBytes == 3 * 0x1000)
    try Self.checkContents(memory, runs)
  }
}
