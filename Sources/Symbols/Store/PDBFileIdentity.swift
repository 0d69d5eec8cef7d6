// The identity (GUID, age, file name) of a PDB file, read minimally to verify what a store or a
// server hands back: the MSF superblock, the stream directory, then the PDB info stream (stream 1:
// GUID) and the DBI stream header (stream 3: age). Layouts: LLVM's "The MSF File Format",
// "The PDB Info Stream" and "The PDB DBI Stream" (llvm.org/docs/PDB).

import BinaryReading

/// Reads a PDB file's identity without parsing the rest of it.
public enum PDBFileIdentity {
  /// "Microsoft C/C++ MSF 7.00\r\n\u{1a}DS\0\0\0" (32 bytes), the MSF 7 superblock magic.
  static let magic: [UInt8] = Array("Microsoft C/C++ MSF 7.00\r\n".utf8) + [0x1A, 0x44, 0x53, 0, 0, 0]

  /// The identity of the PDB at `path`; `name` defaults to the file's last path component.
  public static func read(path: String, name: String? = nil) throws(SymbolsError) -> PDBIdentity {
    let file: MappedFile
    do { file = try MappedFile(path: path) } catch { throw .read(error) }
    func bad(_ at: UInt64, _ m: String) -> SymbolsError { .corruptPDB(file: path, offset: at, message: m) }
    func u32(_ at: UInt64) throws(SymbolsError) -> UInt32 {
      do { return try file.loadLE(UInt32.self, at: at) } catch { throw bad(at, "read past the end of the file") }
    }
    let head: [UInt8]
    do { head = try file.readBytes(at: 0, count: 32) } catch { throw bad(0, "shorter than an MSF superblock") }
    guard head == magic else { throw bad(0, "bad MSF 7.00 magic (not a PDB 7 file)") }
    let blockSize = UInt64(try u32(32))
    guard [512, 1024, 2048, 4096, 8192, 16384, 32768].contains(blockSize) else {
      throw bad(32, "block size \(blockSize) is not a power of two from 512 to 32768")
    }
    let numBlocks = UInt64(try u32(40))
    guard numBlocks > 0, numBlocks.multipliedReportingOverflow(by: blockSize).partialValue <= file.size else {
      throw bad(40, "block count \(numBlocks) × \(blockSize) exceeds the file size \(file.size)")
    }
    let dirBytes = UInt64(try u32(44))
    let blockMapAddr = UInt64(try u32(52))
    guard dirBytes >= 4, dirBytes <= file.size, blockMapAddr < numBlocks else {
      throw bad(44, "directory of \(dirBytes) bytes at block \(blockMapAddr) is impossible")
    }
    func blockOffset(_ block: UInt64, _ at: UInt64) throws(SymbolsError) -> UInt64 {
      guard block < numBlocks else { throw bad(at, "block number \(block) ≥ block count \(numBlocks)") }
      return block &* blockSize  // block < numBlocks and numBlocks × blockSize ≤ file size
    }
    // The directory is itself scattered over the blocks listed at blockMapAddr.
    let dirBlockCount = (dirBytes &+ blockSize &- 1) / blockSize
    guard dirBlockCount &* 4 <= blockSize else { throw bad(52, "directory block list exceeds one block") }
    var dirBlocks: [UInt64] = []
    let mapAt = try blockOffset(blockMapAddr, 52)
    for i in 0..<dirBlockCount { dirBlocks.append(UInt64(try u32(mapAt &+ i &* 4))) }
    /// Reads a u32 at byte `pos` of the directory.
    func dir(_ pos: UInt64) throws(SymbolsError) -> UInt32 {
      guard pos &+ 4 <= dirBytes else { throw bad(mapAt, "stream directory entry \(pos) beyond its \(dirBytes) bytes") }
      let index = Int(pos / blockSize)
      guard index < dirBlocks.count else { throw bad(mapAt, "directory position \(pos) outside its blocks") }
      return try u32(try blockOffset(dirBlocks[index], mapAt) &+ pos % blockSize)  // 4-aligned, stays in a block
    }
    let numStreams = UInt64(try dir(0))
    guard numStreams >= 4, numStreams &* 4 &+ 4 <= dirBytes else {
      throw bad(mapAt, "stream count \(numStreams) impossible")
    }
    var sizes: [UInt64] = []
    for i in 0..<min(numStreams, 4) { sizes.append(UInt64(try dir(4 &+ i &* 4))) }
    /// The file offset of byte `pos` of stream `s`.
    func streamOffset(_ s: Int, _ pos: UInt64) throws(SymbolsError) -> UInt64 {
      guard s < sizes.count, sizes[s] != 0xFFFF_FFFF, pos < sizes[s] else {
        throw bad(mapAt, "stream \(s) is missing or shorter than \(pos &+ 1) bytes")
      }
      var at = 4 &+ numStreams &* 4
      for k in 0..<s where sizes[k] != 0xFFFF_FFFF { at &+= (sizes[k] &+ blockSize &- 1) / blockSize &* 4 }
      let block = UInt64(try dir(at &+ pos / blockSize &* 4))
      return try blockOffset(block, mapAt) &+ pos % blockSize
    }
    func streamU32(_ s: Int, _ pos: UInt64) throws(SymbolsError) -> UInt32 {
      guard pos % 4 == 0 else { throw bad(0, "unaligned stream read") }
      return try u32(try streamOffset(s, pos))
    }
    // PDB info stream: Version, Signature, Age, GUID (16 bytes).
    var guid: [UInt8] = []
    for k in 0..<4 {
      let w = try streamU32(1, 12 &+ UInt64(k) &* 4)
      guid += [UInt8(w & 0xFF), UInt8(w >> 8 & 0xFF), UInt8(w >> 16 & 0xFF), UInt8(w >> 24)]
    }
    var age = try streamU32(1, 8)
    // DBI stream header: VersionSignature, VersionHeader, Age — the age debuggers match.
    if sizes.count > 3, sizes[3] != 0xFFFF_FFFF, sizes[3] >= 12 { age = try streamU32(3, 8) }
    guard let g = PDBIdentity.guidString(fromRaw: guid) else { throw bad(0, "GUID is not 16 bytes") }
    let fileName = name ?? String(path.split(separator: "/").last ?? Substring(path))
    return PDBIdentity(name: fileName, guid: g, age: age)
  }
}
