// PoolScanner on byte-literal images: which slots count as pool blocks (alignment, header checks
// of the public _POOL_HEADER layouts), hostile headers and image ends, holes of sparse raw and
// LiME files, and output independent of the job count and chunk size.

import BinaryReading
import Foundation
import MemoryImage
import TestData
import Testing
import WindowsKernel

@Suite struct PoolScannerTests {
  /// A pool header as the public x64 _POOL_HEADER lays it out (PreviousSize, PoolIndex, BlockSize
  /// in 16-byte units, PoolType; then the tag).
  static func header64(units: UInt8, type: UInt8, tag: String, previous: UInt8 = 0) -> [UInt8] {
    [previous, 0, units, type] + Array(tag.utf8)
  }

  /// An x86 header: USHORT PreviousSize:9, PoolIndex:7; USHORT BlockSize:9 (8-byte units), PoolType:7.
  static func header32(units: UInt16, type: UInt16, tag: String) -> [UInt8] {
    let second = units | type << 9
    return [0, 0, UInt8(second & 0xff), UInt8(second >> 8)] + Array(tag.utf8)
  }

  /// A raw image file of `size` zero bytes with `patches` written at their offsets.
  static func image(_ label: String, size: Int, _ patches: [(Int, [UInt8])]) throws -> RawImage {
    var bytes = [UInt8](repeating: 0, count: size)
    for (offset, patch) in patches { bytes.replaceSubrange(offset..<offset + patch.count, with: patch) }
    let path = try TestData.temporaryDirectory("pool-\(label)").appendingPathComponent("image.raw").path
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return RawImage(file: try MappedFile(path: path))
  }

  @Test func findsAlignedBlocksWithValidHeadersOnly() throws {
    let memory = try Self.image(
      "valid", size: 0x3000,
      [
        (0x0100, Self.header64(units: 3, type: 2, tag: "Cbrb")),  // valid
        (0x0208, Self.header64(units: 3, type: 2, tag: "Cbrb")),  // 8-aligned only: not an x64 slot
        (0x0300, Self.header64(units: 0, type: 2, tag: "Cbrb")),  // size 0
        (0x0400, Self.header64(units: 3, type: 0, tag: "Cbrb")),  // PoolType 0: free
        (0x0ff0, Self.header64(units: 1, type: 2, tag: "MmLd")),  // ends exactly at the page end: valid
        (0x1f00, Self.header64(units: 0x11, type: 2, tag: "MmLd")),  // 0x1f00 + 0x110 passes the page end
        (0x2000, [0, 0, 4, 3, 0x43, 0x42, 0x52, 0xe5]),  // 'CBRe' with the protected bit (0x8000_0000)
        (0x2100, Self.header64(units: 3, type: 2, tag: "Xxxx")),  // not wanted
      ])
    let hits = PoolScanner.scan(memory, tags: ["Cbrb", "MmLd", "CBRe"], jobs: 1)
    #expect(
      hits == [
        PoolHit(header: 0x0100, tag: "Cbrb", blockSize: 0x30), PoolHit(header: 0x0ff0, tag: "MmLd", blockSize: 0x10),
        PoolHit(header: 0x2000, tag: "CBRe", blockSize: 0x40),
      ])
  }

  @Test func x86HeadersAreEightByteAligned() throws {
    let memory = try Self.image(
      "x86", size: 0x1000,
      [
        (0x0108, Self.header32(units: 6, type: 1, tag: "Cbrb")),  // valid: 0x30 bytes
        (0x0204, Self.header32(units: 6, type: 1, tag: "Cbrb")),  // 4-aligned: not a slot
        (0x0ff8, Self.header32(units: 2, type: 1, tag: "Cbrb")),  // 0xff8 + 0x10 passes the page end
      ])
    let hits = PoolScanner.scan(memory, tags: ["Cbrb"], pointerSize: 4, jobs: 1)
    #expect(hits == [PoolHit(header: 0x0108, tag: "Cbrb", blockSize: 0x30)])
  }

  @Test func imageEndsAreNeverReadPast() throws {
    // 0x2008 bytes: not a multiple of the page size; the last slot's tag is the file's last 4 bytes
    // and its block (0x10 bytes) would end past the image; a tag cut by the end of the file.
    let memory = try Self.image(
      "end", size: 0x2008,
      [
        (0x1000, Self.header64(units: 1, type: 2, tag: "MmLd")),
        (0x2000, Self.header64(units: 1, type: 2, tag: "MmLd")),
      ])
    #expect(memory.fileSize % 0x1000 != 0)
    let hits = PoolScanner.scan(memory, tags: ["MmLd"], jobs: 2, chunkSize: 0x1000)
    #expect(hits == [PoolHit(header: 0x1000, tag: "MmLd", blockSize: 0x10)])

    let cut = try Self.image(
      "cut", size: 0x1006, [(0x1000, Array(Self.header64(units: 1, type: 2, tag: "MmLd").prefix(6)))])
    #expect(PoolScanner.scan(cut, tags: ["MmLd"], jobs: 1).isEmpty)
    let tiny = try Self.image("tiny", size: 5, [])
    #expect(PoolScanner.scan(tiny, tags: ["MmLd"], jobs: 2).isEmpty)
  }

  @Test func resultDoesNotDependOnJobsOrChunkSize() throws {
    // A valid block in every 0x340th slot-aligned position over 1 MiB (hits in most 4 KiB chunks).
    var patches: [(Int, [UInt8])] = []
    var expected: [PoolHit] = []
    let tags = ["Cbrb", "CBRe", "MmLd", "IoSh"]
    var offset = 0x40
    var k = 0
    while offset + 0x40 <= 1 << 20 {
      let tag = tags[k % tags.count]
      patches.append((offset, Self.header64(units: 2, type: 2, tag: tag)))
      if (offset & 0xfff) + 0x20 <= 0x1000 {
        expected.append(PoolHit(header: UInt64(offset), tag: tag, blockSize: 0x20))
      }
      offset += 0x340
      k += 1
    }
    let memory = try Self.image("jobs", size: 1 << 20, patches)
    let one = PoolScanner.scan(memory, tags: Set(tags), jobs: 1)
    #expect(one == expected)
    for (jobs, chunk) in [(2, 0x1000), (3, 0x2000), (8, 0x1000), (2, nil)] as [(Int, Int?)] {
      #expect(PoolScanner.scan(memory, tags: Set(tags), jobs: jobs, chunkSize: chunk) == one, "jobs \(jobs)")
    }
    // Without a mapped file (reads through the image instead) the result is the same.
    #expect(PoolScanner.scan(UnmappedMemory(memory), tags: Set(tags), jobs: 2, chunkSize: 0x1000) == one)
  }

  @Test func progressReportsEveryByteOnce() throws {
    let memory = try Self.image("progress", size: 0x10000, [])
    let seen = ProgressLog()
    _ = PoolScanner.scan(memory, tags: ["MmLd"], jobs: 2, chunkSize: 0x1000) { seen.add($0, $1) }
    let calls = seen.calls
    #expect(calls.count == 16)
    #expect(calls.map(\.0) == (1...16).map { UInt64($0) * 0x1000 })
    #expect(calls.allSatisfy { $0.1 == 0x10000 })
  }

  @Test func sparseHolesOfARawImageAreNotScanned() throws {
    let path = try TestData.temporaryDirectory("pool-sparse").appendingPathComponent("sparse.raw").path
    let size = 16 << 20
    #expect(FileManager.default.createFile(atPath: path, contents: nil))
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    try handle.write(contentsOf: Data(Self.header64(units: 3, type: 2, tag: "Cbrb")))
    try handle.seek(toOffset: UInt64(size - 0x1000))
    try handle.write(
      contentsOf: Data(Self.header64(units: 3, type: 2, tag: "Cbrb") + [UInt8](repeating: 0, count: 0xff8)))
    try handle.close()
    let memory = RawImage(file: try MappedFile(path: path))
    let runs = try #require(memory.fileRuns).runs
    // ext4, xfs, btrfs and tmpfs report holes: only the two written blocks are data.
    #expect(runs.reduce(0) { $0 + $1.length } < 1 << 20, "\(runs)")
    #expect(runs.first?.physical == 0)
    #expect(runs.last.map { $0.physical + $0.length } == UInt64(size))
    #expect(runs.allSatisfy { $0.backedEnd == UInt64(size) })
    let hits = PoolScanner.scan(memory, tags: ["Cbrb"], jobs: 2)
    #expect(hits.map(\.header) == [0, UInt64(size - 0x1000)])
  }

  @Test func limeHeadersAndGapsAreNotScanned() throws {
    // LiME: a 32-byte header (magic 'EMiL', version 1, start, inclusive end, reserved) before each range.
    func lime(_ start: UInt64, _ data: [UInt8]) -> [UInt8] {
      let end = start + UInt64(data.count) - 1
      let le32 = { (v: UInt32) in (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
      let le64 = { (v: UInt64) in (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
      return le32(0x4c69_4d45) + le32(1) + le64(start) + le64(end) + [UInt8](repeating: 0, count: 8) + data
    }
    var first = [UInt8](repeating: 0, count: 0x1000)
    first.replaceSubrange(0x40..<0x48, with: Self.header64(units: 2, type: 2, tag: "IoSh"))
    var second = [UInt8](repeating: 0, count: 0x1000)
    second.replaceSubrange(0x100..<0x108, with: Self.header64(units: 2, type: 2, tag: "IoSh"))
    let path = try TestData.temporaryDirectory("pool-lime").appendingPathComponent("image.lime").path
    try Data(lime(0, first) + lime(0x10000, second)).write(to: URL(fileURLWithPath: path))
    let memory = try MemoryImageOpener.open(path: path)
    #expect(memory.formatName == "lime")
    let runs = try #require(memory.fileRuns).runs
    #expect(
      runs == [
        FileRun(physical: 0, length: 0x1000, fileOffset: 0x20, backedEnd: 0x1000),
        FileRun(physical: 0x10000, length: 0x1000, fileOffset: 0x1040, backedEnd: 0x11000),
      ])
    let hits = PoolScanner.scan(memory, tags: ["IoSh"], jobs: 2, chunkSize: 0x1000)
    #expect(
      hits == [
        PoolHit(header: 0x40, tag: "IoSh", blockSize: 0x20), PoolHit(header: 0x10100, tag: "IoSh", blockSize: 0x20),
      ])
  }
}

/// Progress calls, recorded from any thread.
private final class ProgressLog: @unchecked Sendable {
  // @unchecked: `entries` is only touched under `lock`.
  private let lock = NSLock()
  private var entries: [(UInt64, UInt64)] = []
  func add(_ done: UInt64, _ total: UInt64) { lock.withLock { entries.append((done, total)) } }
  var calls: [(UInt64, UInt64)] { lock.withLock { entries } }
}

/// An image that hides its file: the scanner must read through `read(at:count:)`.
private final class UnmappedMemory: PhysicalMemory {
  let inner: any PhysicalMemory
  init(_ inner: any PhysicalMemory) { self.inner = inner }
  var formatName: String { inner.formatName }
  var path: String { inner.path }
  var fileSize: UInt64 { inner.fileSize }
  var ranges: [PhysicalRange] { inner.ranges }
  func read(at address: UInt64, count: Int) throws(MemoryImageError) -> [UInt8] {
    try inner.read(at: address, count: count)
  }
}
