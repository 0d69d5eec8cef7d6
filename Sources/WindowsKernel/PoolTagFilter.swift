// The hot loop of pool carving: every aligned slot's tag (the ULONG at +4) tested against all
// wanted tags at once, four slots per step, through a 64 Kibit filter on the tag's first two
// characters (8 KiB, stays in L1). Only a filter hit compares whole tags and decodes the header.
// Every unsafe load of the scanner is in this file, behind the buffer bounds of the caller.

/// The set of tags a scan looks for, as a bit filter and an exact list.
struct PoolTagFilter: Sendable {
  /// Bit `t & 0xffff` is set for every wanted tag `t`.
  private let bits: [UInt64]
  /// Wanted tags (protected bit clear) and their names.
  let tags: [UInt32]
  let names: [String]

  /// A filter for 4-character ASCII `tags` (others are ignored).
  init(_ tags: Set<String>) {
    var bits = [UInt64](repeating: 0, count: 1024)
    var values: [UInt32] = []
    var names: [String] = []
    for tag in tags.sorted() {
      let b = Array(tag.utf8)
      guard b.count == 4 else { continue }
      let value = UInt32(b[0]) | UInt32(b[1]) << 8 | UInt32(b[2]) << 16 | UInt32(b[3]) << 24
      guard value & 0x8000_0000 == 0 else { continue }  // not ASCII
      bits[Int(value & 0xffff) >> 6] |= 1 << (value & 63)
      values.append(value)
      names.append(tag)
    }
    self.bits = bits
    self.tags = values
    self.names = names
  }

  var isEmpty: Bool { tags.isEmpty }

  /// Index of `tag` (protected bit 0x8000_0000 ignored) in `tags`, if wanted.
  @inline(__always)
  func index(of tag: UInt32) -> Int? { tags.firstIndex(of: tag & 0x7fff_ffff) }

  /// Calls `hit(offset, headerWord, tagIndex)` for every slot `first, first+stride, …` of `buffer`
  /// whose 8 header bytes lie inside it and whose tag is wanted. `stride` ≥ 8.
  func scan(
    _ buffer: UnsafeRawBufferPointer, first: Int, stride: Int, _ hit: (Int, UInt32, Int) -> Void
  ) {
    guard let base = buffer.baseAddress, stride >= 8, first >= 0 else { return }
    let count = buffer.count
    bits.withUnsafeBufferPointer { filter in
      guard let f = filter.baseAddress else { return }
      @inline(__always) func probe(_ offset: Int) -> UInt64 {
        let tag = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: offset &+ 4, as: UInt32.self))
        let key = Int(truncatingIfNeeded: tag & 0xffff)
        return (f[key &>> 6] &>> UInt64(key & 63)) & 1
      }
      @inline(__always) func check(_ offset: Int) {
        let tag = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: offset &+ 4, as: UInt32.self))
        guard let i = index(of: tag) else { return }
        hit(offset, UInt32(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt32.self)), i)
      }
      // Offsets stay below `count` + 4·stride (stride is 8 or 16): the &+ and &* below cannot overflow.
      var offset = first
      let step = stride &* 4
      // Four slots per step while all four lie inside (offset + 3·stride + 8 ≤ offset + 4·stride).
      while offset <= count &- step {
        let any = probe(offset) | probe(offset &+ stride) | probe(offset &+ 2 &* stride) | probe(offset &+ 3 &* stride)
        if any != 0 {
          for k in 0..<4 { check(offset &+ k &* stride) }
        }
        offset &+= step
      }
      while offset <= count &- 8 {
        if probe(offset) != 0 { check(offset) }
        offset &+= stride
      }
    }
  }
}
