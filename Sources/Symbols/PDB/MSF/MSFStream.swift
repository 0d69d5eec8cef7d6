// One MSF stream: its size and block list; bytes are copied out of the mapped file only when asked,
// block by block (a stream is never contiguous on disk in general).
// Layout: LLVM "The MSF File Format" (streams are sequences of blocks listed in the directory).

import BinaryReading

/// A stream of a PDB, read lazily from its blocks.
public struct MSFStream: ByteSource {
  /// The stream's number in the directory.
  public let index: UInt32
  let source: any ByteSource
  let blockSize: Int
  let blocks: ArraySlice<UInt32>
  let byteCount: Int
  let file: String

  public var sourceName: String { "\(file) stream \(index)" }
  public var size: UInt64 { UInt64(byteCount) }

  /// `count` bytes at `offset` of the stream.
  public func read(at offset: UInt64, count: Int) throws -> [UInt8] { try bytes(at: offset, count: count) }

  /// `count` bytes at `offset` of the stream (typed-throwing form of `read`).
  public func bytes(at offset: UInt64, count: Int) throws(PDBError) -> [UInt8] {
    let (end, o) = offset.addingReportingOverflow(UInt64(max(count, 0)))
    guard count >= 0, !o, end <= UInt64(byteCount) else {
      throw .truncated(
        file: file, structure: "stream \(index)", offset: offset, needed: UInt64(max(count, 0)),
        available: UInt64(byteCount))
    }
    var out: [UInt8] = []
    out.reserveCapacity(count)
    var pos = Int(offset)  // ≤ byteCount, which fits in Int
    let stop = pos &+ count  // = end, checked above
    while pos < stop {
      let blockIndex = pos / blockSize
      let within = pos % blockSize
      let n = min(blockSize &- within, stop &- pos)
      let slot = blocks.startIndex &+ blockIndex  // blockIndex < blocks.count: pos < byteCount
      guard slot < blocks.endIndex else {
        throw .truncated(
          file: file, structure: "stream \(index) block list", offset: UInt64(pos), needed: UInt64(n),
          available: UInt64(byteCount))
      }
      let block = blocks[slot]
      // block was checked against the block count, and blockCount × blockSize ≤ file size.
      let at = UInt64(block) &* UInt64(blockSize) &+ UInt64(within)
      do { out += try source.read(at: at, count: n) } catch {
        throw .truncated(
          file: file, structure: "stream \(index) block \(block)", offset: at, needed: UInt64(n),
          available: source.size)
      }
      pos &+= n
    }
    return out
  }

  /// The whole stream (its size was checked against the file size).
  public func readAll() throws(PDBError) -> [UInt8] { try bytes(at: 0, count: byteCount) }
}
