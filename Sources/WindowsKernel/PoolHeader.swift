// The _POOL_HEADER checks a tag hit must pass before it is reported as a pool block. Layouts from
// the public PDBs (ntkrnlmp x64: ULONG PreviousSize:8, PoolIndex:8, BlockSize:8, PoolType:8, then
// PoolTag at +4, units of 16 bytes; ntkrnlpa x86: USHORT PreviousSize:9, PoolIndex:7; USHORT
// BlockSize:9, PoolType:7, then PoolTag at +4, units of 8 bytes). A small block never crosses its
// page; PoolType 0 marks a free block (Volatility 3's pool scanner reads it the same way).

/// The first ULONG of a pool header, decoded and checked.
public struct PoolHeader: Sendable, Hashable {
  /// Block size in bytes, header included (> 0).
  public var blockSize: Int
  /// The PoolType field (non-zero: the block is allocated).
  public var poolType: UInt8

  /// Size of the header in bytes (x64 16, x86 8): also the alignment of every block.
  public static func size(pointerSize: Int) -> Int { pointerSize == 8 ? 16 : 8 }

  /// Decodes `word` (the header's first ULONG) of a header at physical `address`; nil when the
  /// header fails a check: zero size, free block, a block running past its page or past `limit`
  /// (one past the last backed byte of the memory holding it).
  @inline(__always)
  public init?(word: UInt32, at address: UInt64, limit: UInt64, pointerSize: Int) {
    let units: UInt32
    let type: UInt32
    let unit: UInt32
    if pointerSize == 8 {
      units = (word >> 16) & 0xff
      type = word >> 24
      unit = 16
    } else {
      units = (word >> 16) & 0x1ff
      type = word >> 25
      unit = 8
    }
    guard units > 0, type != 0 else { return nil }
    let bytes = UInt64(units &* unit)  // ≤ 0x1ff · 8: no overflow
    let inPage = address & 0xfff
    guard inPage &+ bytes <= 0x1000, address < limit, bytes <= limit &- address else { return nil }
    blockSize = Int(bytes)
    poolType = UInt8(truncatingIfNeeded: type)
  }
}
