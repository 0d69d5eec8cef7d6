// The MSF 7.00 superblock (block 0 of every PDB): raw on-disk fields, then the validated geometry.
// Layout: LLVM "The MSF File Format" (SuperBlock) and Microsoft's microsoft-pdb msf.cpp (MSF_HDR /
// BigMsf header: magic, cbPg, pnFpm, pnMac, cbDirectory, unused, then the array of block-map blocks).

import BinaryReading

/// The raw superblock fields, as stored.
struct MSFSuperBlockRaw: Sendable {
  /// `Microsoft C/C++ MSF 7.00\r\n\u{1a}DS\0\0\0`.
  static let magic: [UInt8] = Array("Microsoft C/C++ MSF 7.00\r\n".utf8) + [0x1A, 0x44, 0x53, 0, 0, 0]
  /// Size of the fixed part (magic + 6 × u32); the block-map block numbers follow.
  static let fixedSize = 0x38

  var fileMagic: [UInt8]
  var blockSize: UInt32
  var freeBlockMapBlock: UInt32
  var numBlocks: UInt32
  var numDirectoryBytes: UInt32
  var unknown: UInt32
  /// The first block-map block; further ones follow at 0x38, 0x3C … when the directory is large.
  var blockMapAddr: UInt32

  init(parsing c: inout PDBCursor) throws(PDBError) {
    fileMagic = try c.bytes(32)
    blockSize = try c.u32()
    freeBlockMapBlock = try c.u32()
    numBlocks = try c.u32()
    numDirectoryBytes = try c.u32()
    unknown = try c.u32()
    blockMapAddr = try c.u32()
  }
}

/// The validated container geometry: block size, block count and where the directory lives.
struct MSFSuperBlock: Sendable {
  let blockSize: Int
  let blockCount: UInt32
  let directoryByteCount: Int
  /// Blocks that hold the list of directory block numbers (usually one).
  let blockMapBlocks: [UInt32]

  /// Number of blocks needed for `bytes` bytes.
  func blocks(for bytes: Int) -> Int { bytes / blockSize + (bytes % blockSize == 0 ? 0 : 1) }

  /// Reads and checks block 0 of `source`.
  init(source: any ByteSource, file: String) throws(PDBError) {
    let headerBytes: [UInt8]
    guard source.size >= UInt64(MSFSuperBlockRaw.fixedSize) else {
      if source.size >= 32, let m = try? source.read(at: 0, count: 32), m != MSFSuperBlockRaw.magic {
        throw .badMagic(file: file, found: m)
      }
      throw .truncated(
        file: file, structure: "MSF superblock", offset: 0, needed: UInt64(MSFSuperBlockRaw.fixedSize),
        available: source.size)
    }
    do { headerBytes = try source.read(at: 0, count: MSFSuperBlockRaw.fixedSize) } catch {
      throw .io(file: file, message: "\(error)")
    }
    var c = PDBCursor(headerBytes, file: file, structure: "MSF superblock")
    let raw = try MSFSuperBlockRaw(parsing: &c)
    guard raw.fileMagic == MSFSuperBlockRaw.magic else { throw .badMagic(file: file, found: raw.fileMagic) }

    let bs = raw.blockSize
    guard [512, 1024, 2048, 4096, 8192, 16384, 32768].contains(bs) else {
      throw .unsupported(file: file, what: "MSF block size \(bs)")
    }
    blockSize = Int(bs)
    blockCount = raw.numBlocks
    // The file must hold every block the superblock announces.
    let (needed, o) = UInt64(raw.numBlocks).multipliedReportingOverflow(by: UInt64(bs))
    guard !o, needed <= source.size else {
      throw .truncated(
        file: file, structure: "MSF (\(raw.numBlocks) blocks of \(bs) bytes)", offset: 0,
        needed: o ? UInt64.max : needed, available: source.size)
    }
    guard raw.numBlocks > 0 else {
      throw .corrupt(file: file, structure: "MSF superblock", offset: 0x28, message: "no blocks")
    }
    guard raw.numDirectoryBytes >= 4, UInt64(raw.numDirectoryBytes) <= source.size else {
      throw .absurdValue(
        file: file, what: "stream directory size", value: UInt64(raw.numDirectoryBytes), limit: source.size)
    }
    directoryByteCount = Int(raw.numDirectoryBytes)

    // The directory's block list (4 bytes per block) may itself span several blocks.
    let dirBlocks = directoryByteCount / blockSize + (directoryByteCount % blockSize == 0 ? 0 : 1)
    let listBytes = dirBlocks &* 4  // dirBlocks ≤ file size / 512: cannot overflow
    let mapBlockCount = listBytes / blockSize + (listBytes % blockSize == 0 ? 0 : 1)
    let maxMapBlocks = (blockSize &- MSFSuperBlockRaw.fixedSize) / 4 &+ 1
    guard mapBlockCount <= maxMapBlocks else {
      throw .absurdValue(
        file: file, what: "number of block-map blocks", value: UInt64(mapBlockCount), limit: UInt64(maxMapBlocks))
    }
    var maps: [UInt32] = [raw.blockMapAddr]
    if mapBlockCount > 1 {
      let extra: [UInt8]
      do { extra = try source.read(at: UInt64(MSFSuperBlockRaw.fixedSize), count: (mapBlockCount &- 1) &* 4) } catch {
        throw .io(file: file, message: "\(error)")
      }
      var e = PDBCursor(extra, file: file, structure: "MSF superblock block-map list")
      for _ in 1..<mapBlockCount { maps.append(try e.u32()) }
    }
    for b in maps where b >= raw.numBlocks || b == 0 {
      throw .blockOutOfRange(file: file, structure: "MSF block map", block: b, blockCount: raw.numBlocks)
    }
    blockMapBlocks = maps
  }
}
