// The MSF stream directory: how many streams, each one's size and the blocks holding it.
// Layout: LLVM "The MSF File Format" (The Stream Directory): NumStreams, StreamSizes[NumStreams],
// then each stream's block numbers; a size of 0xFFFFFFFF marks a deleted (nil) stream.

import BinaryReading

/// The validated directory: stream sizes and block lists, every block number checked.
struct MSFStreamDirectory: Sendable {
  /// Size in bytes of each stream (0 for nil streams).
  let sizes: [UInt32]
  /// All streams' block numbers, one after another.
  let blocks: [UInt32]
  /// Index into `blocks` of each stream's first block.
  let firstBlock: [Int]

  var streamCount: Int { sizes.count }

  /// Reads the directory named by `superBlock` from `source`.
  init(source: any ByteSource, superBlock sb: MSFSuperBlock, file: String) throws(PDBError) {
    let dirBlockCount = sb.blocks(for: sb.directoryByteCount)
    // 1. The directory's own block numbers, read from the block-map block(s).
    var dirBlocks: [UInt32] = []
    dirBlocks.reserveCapacity(dirBlockCount)
    let perMapBlock = sb.blockSize / 4
    for mapBlock in sb.blockMapBlocks {
      let want = min(perMapBlock, dirBlockCount &- dirBlocks.count)
      let raw = try Self.read(source, block: mapBlock, sb: sb, count: want &* 4, file: file)
      var c = PDBCursor(raw, file: file, structure: "MSF block map (block \(mapBlock))")
      for _ in 0..<want {
        let b = try c.u32()
        guard b < sb.blockCount else {
          throw .blockOutOfRange(file: file, structure: "stream directory", block: b, blockCount: sb.blockCount)
        }
        dirBlocks.append(b)
      }
    }
    // 2. The directory bytes.
    var dir: [UInt8] = []
    dir.reserveCapacity(dirBlockCount &* sb.blockSize)
    for b in dirBlocks {
      let want = min(sb.blockSize, sb.directoryByteCount &- dir.count)
      dir += try Self.read(source, block: b, sb: sb, count: want, file: file)
    }
    // 3. Parse it.
    var c = PDBCursor(dir, file: file, structure: "MSF stream directory")
    let count = try c.u32()
    let maxStreams = UInt32((sb.directoryByteCount &- 4) / 4)
    guard count <= maxStreams else {
      throw .absurdValue(file: file, what: "number of streams", value: UInt64(count), limit: UInt64(maxStreams))
    }
    var sizes: [UInt32] = []
    sizes.reserveCapacity(Int(count))
    for _ in 0..<count {
      let s = try c.u32()
      sizes.append(s == 0xFFFF_FFFF ? 0 : s)
    }
    var blocks: [UInt32] = []
    var firsts: [Int] = []
    firsts.reserveCapacity(Int(count))
    for (i, s) in sizes.enumerated() {
      guard UInt64(s) <= source.size else {
        throw .absurdValue(file: file, what: "size of stream \(i)", value: UInt64(s), limit: source.size)
      }
      firsts.append(blocks.count)
      let n = sb.blocks(for: Int(s))
      guard n <= c.remaining / 4 else {
        throw .truncated(
          file: file, structure: "MSF stream directory (block list of stream \(i))", offset: UInt64(c.offset),
          needed: UInt64(n) &* 4, available: UInt64(c.remaining))
      }
      for _ in 0..<n {
        let b = try c.u32()
        guard b < sb.blockCount else {
          throw .blockOutOfRange(file: file, structure: "stream \(i)", block: b, blockCount: sb.blockCount)
        }
        blocks.append(b)
      }
    }
    self.sizes = sizes
    self.blocks = blocks
    self.firstBlock = firsts
  }

  /// `count` bytes from the start of `block`.
  static func read(
    _ source: any ByteSource, block: UInt32, sb: MSFSuperBlock, count: Int, file: String
  ) throws(PDBError) -> [UInt8] {
    guard block < sb.blockCount else {
      throw .blockOutOfRange(file: file, structure: "MSF", block: block, blockCount: sb.blockCount)
    }
    // block < blockCount and blockCount × blockSize ≤ file size (checked by the superblock).
    let at = UInt64(block) &* UInt64(sb.blockSize)
    do { return try source.read(at: at, count: count) } catch {
      throw .truncated(
        file: file, structure: "MSF block \(block)", offset: at, needed: UInt64(count),
        available: source.size > at ? source.size &- at : 0)
    }
  }
}
