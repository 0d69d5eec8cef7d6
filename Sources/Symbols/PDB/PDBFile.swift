// A PDB opened as an MSF container: superblock and stream directory are read at open; streams are
// assembled from their blocks only when asked for, so a 40 MB PDB is never read whole.

import BinaryReading

/// A PDB (MSF 7.00) file: its stream directory, and streams on demand.
public final class PDBFile: Sendable {
  /// Fixed stream numbers (LLVM "The PDB File Format": Stream Indices).
  public enum FixedStream: UInt32, Sendable {
    case oldDirectory = 0, info = 1, tpi = 2, dbi = 3, ipi = 4
  }

  /// The file path (or name), for messages.
  public let path: String
  let source: any ByteSource
  let superBlock: MSFSuperBlock
  let directory: MSFStreamDirectory

  /// Opens and memory-maps `path`, reading only the superblock and the stream directory.
  public convenience init(path: String) throws(PDBError) {
    let mapped: MappedFile
    do { mapped = try MappedFile(path: path) } catch { throw .io(file: path, message: error.description) }
    try self.init(source: mapped, name: path)
  }

  /// Reads a PDB held by any byte source (a mapped file, bytes in memory).
  public init(source: any ByteSource, name: String) throws(PDBError) {
    self.path = name
    self.source = source
    let sb = try MSFSuperBlock(source: source, file: name)
    self.superBlock = sb
    self.directory = try MSFStreamDirectory(source: source, superBlock: sb, file: name)
  }

  /// The MSF block size in bytes.
  public var blockSize: Int { superBlock.blockSize }
  /// Number of streams in the directory.
  public var streamCount: Int { directory.streamCount }

  /// Stream `index`, not yet read.
  public func stream(_ index: UInt32) throws(PDBError) -> MSFStream {
    guard Int(index) < directory.streamCount else {
      throw .streamOutOfRange(file: path, stream: index, streamCount: UInt32(directory.streamCount))
    }
    let i = Int(index)
    let size = Int(directory.sizes[i])
    let first = directory.firstBlock[i]
    let n = superBlock.blocks(for: size)
    return MSFStream(
      index: index, source: source, blockSize: superBlock.blockSize,
      blocks: directory.blocks[first..<(first &+ n)],  // in range: the directory listed n blocks here
      byteCount: size, file: path)
  }

  /// A fixed stream.
  public func stream(_ fixed: FixedStream) throws(PDBError) -> MSFStream { try stream(fixed.rawValue) }

  /// The bytes of a stream whose number came from another stream (0xFFFF means absent → nil).
  func optionalStreamBytes(_ index: UInt16) throws(PDBError) -> [UInt8]? {
    guard index != 0xFFFF else { return nil }
    return try stream(UInt32(index)).readAll()
  }
}
