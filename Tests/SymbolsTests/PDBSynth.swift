// Synthesises small MSF 7.00 / PDB files for the bad-input tests: streams laid out block by block
// (layout from LLVM "The MSF File Format"), with helpers to write TPI records and patch bytes.

import BinaryReading
import Foundation

@testable import Symbols

/// Little-endian byte building.
struct Bytes {
  var b: [UInt8] = []
  mutating func u8(_ v: UInt8) { b.append(v) }
  mutating func u16(_ v: UInt16) { b += [UInt8(v & 0xFF), UInt8(v >> 8)] }
  mutating func u32(_ v: UInt32) { for i in 0..<4 { b.append(UInt8((v >> (8 * UInt32(i))) & 0xFF)) } }
  mutating func str(_ s: String) { b += Array(s.utf8) + [0] }
  mutating func raw(_ r: [UInt8]) { b += r }
}

/// An MSF file built from streams, and where each part landed.
struct MSFSynth {
  var blockSize = 512
  var streams: [[UInt8]]

  struct Built {
    var bytes: [UInt8]
    var blockSize: Int
    /// File offset of the stream directory (its first block).
    var directoryOffset: Int
    /// File offset of the block-map block (the list of directory blocks).
    var blockMapOffset: Int
    /// File offset, inside the directory, of each stream's first block-number entry.
    var streamBlockEntryOffsets: [Int]

    /// Writes a little-endian u32 at `offset`.
    mutating func patch32(_ offset: Int, _ v: UInt32) {
      for i in 0..<4 { bytes[offset + i] = UInt8((v >> (8 * UInt32(i))) & 0xFF) }
    }
    func source(_ name: String = "synth.pdb") -> InMemoryByteSource { InMemoryByteSource(bytes, name: name) }
  }

  func build() -> Built {
    var out = [UInt8](repeating: 0, count: blockSize * 3)  // superblock + two free-block-map blocks
    var streamBlocks: [[UInt32]] = []
    for s in streams {
      var blocks: [UInt32] = []
      var at = 0
      while at < s.count {
        blocks.append(UInt32(out.count / blockSize))
        var chunk = Array(s[at..<min(s.count, at + blockSize)])
        chunk += [UInt8](repeating: 0, count: blockSize - chunk.count)
        out += chunk
        at += blockSize
      }
      streamBlocks.append(blocks)
    }
    var dir = Bytes()
    dir.u32(UInt32(streams.count))
    for s in streams { dir.u32(UInt32(s.count)) }
    var entryOffsets: [Int] = []
    for blocks in streamBlocks {
      entryOffsets.append(dir.b.count)
      for b in blocks { dir.u32(b) }
    }
    let directoryBlock = out.count / blockSize
    var dirBlocks: [UInt32] = []
    var at = 0
    while at < dir.b.count {
      dirBlocks.append(UInt32(out.count / blockSize))
      var chunk = Array(dir.b[at..<min(dir.b.count, at + blockSize)])
      chunk += [UInt8](repeating: 0, count: blockSize - chunk.count)
      out += chunk
      at += blockSize
    }
    let mapBlock = out.count / blockSize
    var map = Bytes()
    for b in dirBlocks { map.u32(b) }
    out += map.b + [UInt8](repeating: 0, count: blockSize - map.b.count)
    var sb = Bytes()
    sb.raw(MSFSuperBlockRaw.magic)
    sb.u32(UInt32(blockSize))
    sb.u32(1)
    sb.u32(UInt32(out.count / blockSize))
    sb.u32(UInt32(dir.b.count))
    sb.u32(0)
    sb.u32(UInt32(mapBlock))
    out.replaceSubrange(0..<sb.b.count, with: sb.b)
    return Built(
      bytes: out, blockSize: blockSize, directoryOffset: directoryBlock * blockSize,
      blockMapOffset: mapBlock * blockSize,
      streamBlockEntryOffsets: entryOffsets.map { directoryBlock * blockSize + $0 })
  }

  /// Stream 1: VC70+ info stream with an empty named stream map.
  static func infoStream(age: UInt32 = 3) -> [UInt8] {
    var s = Bytes()
    s.u32(20_000_404)
    s.u32(0x1234_5678)
    s.u32(age)
    s.raw((0..<16).map { UInt8($0 * 17) })
    s.u32(0)  // string buffer length
    s.u32(0)  // size
    s.u32(1)  // capacity
    s.u32(0)  // present words
    s.u32(0)  // deleted words
    return s.b
  }

  /// Stream 3: a DBI header with no substreams and no symbol record stream.
  /// One module record (no symbol stream) and a matching file-info substream, as llvm-pdbutil
  /// expects at least one module.
  static func dbiStream(age: UInt32 = 3) -> [UInt8] {
    var module = Bytes()
    module.u32(0)
    module.raw([UInt8](repeating: 0, count: 28))
    module.u16(0)
    module.u16(0xFFFF)
    for _ in 0..<3 { module.u32(0) }
    module.u16(0)
    module.u16(0)
    for _ in 0..<3 { module.u32(0) }
    module.str("m")
    module.str("m.obj")
    while module.b.count % 4 != 0 { module.u8(0) }
    var files = Bytes()
    files.u16(1)
    files.u16(0)
    files.u16(0)
    files.u16(0)
    var s = Bytes()
    s.u32(0xFFFF_FFFF)
    s.u32(19_990_903)
    s.u32(age)
    for _ in 0..<6 { s.u16(0xFFFF) }
    s.u32(UInt32(module.b.count))  // module info
    s.u32(0)  // section contributions
    s.u32(0)  // section map
    s.u32(UInt32(files.b.count))  // source info
    for _ in 0..<4 { s.u32(0) }  // type server map, MFC index, debug header, EC
    s.u16(0)
    s.u16(0x8664)
    s.u32(0)
    return s.b + module.b + files.b
  }

  /// Stream 2: a TPI header followed by `records` (each a kind and its payload, padded to 4).
  static func tpiStream(_ records: [(UInt16, [UInt8])], typeCount: UInt32? = nil) -> [UInt8] {
    var body = Bytes()
    for (kind, payload) in records {
      var p = payload
      while p.count % 4 != 0 { p.append(0xF0 | UInt8(4 - p.count % 4)) }
      body.u16(UInt16(p.count + 2))
      body.u16(kind)
      body.raw(p)
    }
    var s = Bytes()
    s.u32(20_040_203)
    s.u32(56)
    s.u32(0x1000)
    s.u32(0x1000 + (typeCount ?? UInt32(records.count)))
    s.u32(UInt32(body.b.count))
    s.u16(0xFFFF)
    s.u16(0xFFFF)
    s.u32(4)
    s.u32(0x3FFFF)
    for _ in 0..<6 { s.u32(0) }
    return s.b + body.b
  }

  /// A whole minimal PDB: streams 0-3 with the given TPI.
  static func pdb(tpi: [UInt8]) -> MSFSynth {
    MSFSynth(streams: [[], infoStream(), tpi, dbiStream()])
  }
}

/// Type record payload helpers.
enum TypeRec {
  static func modifier(_ t: UInt32) -> (UInt16, [UInt8]) {
    var b = Bytes()
    b.u32(t)
    b.u16(1)
    return (0x1001, b.b)
  }
  static func pointer64(_ t: UInt32) -> (UInt16, [UInt8]) {
    var b = Bytes()
    b.u32(t)
    b.u32(0x0C | (8 << 13))  // near64, size 8
    return (0x1002, b.b)
  }
  static func member(_ name: String, _ type: UInt32, _ offset: UInt16) -> [UInt8] {
    var b = Bytes()
    b.u16(0x150D)
    b.u16(3)
    b.u32(type)
    b.u16(offset)
    b.str(name)
    return b.b
  }
  static func index(_ t: UInt32) -> [UInt8] {
    var b = Bytes()
    b.u16(0x1404)
    b.u16(0)
    b.u32(t)
    return b.b
  }
  static func fieldList(_ members: [[UInt8]]) -> (UInt16, [UInt8]) {
    var out: [UInt8] = []
    for m in members {
      out += m
      while out.count % 4 != 0 { out.append(0xF0 | UInt8(4 - out.count % 4)) }
    }
    return (0x1203, out)
  }
  static func structure(_ name: String, fields: UInt32, size: UInt16, count: UInt16 = 1) -> (UInt16, [UInt8]) {
    var b = Bytes()
    b.u16(count)
    b.u16(0)
    b.u32(fields)
    b.u32(0)
    b.u32(0)
    b.u16(size)
    b.str(name)
    return (0x1505, b.b)
  }
}
