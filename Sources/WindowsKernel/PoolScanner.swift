// A single pass over physical memory that finds pool blocks of many tags at once (for carving:
// `MmLd` loader entries now, callback blocks later). Pool headers sit on 16-byte boundaries on
// x64 (8 on x86) with the 4-byte tag at +4 (_POOL_HEADER.PoolTag in the public PDB).

import BinaryReading
import MemoryImage

/// A pool block found by tag.
public struct PoolHit: Sendable, Hashable {
  /// Physical address of the POOL_HEADER.
  public var header: UInt64
  /// The tag as four ASCII characters (protected bit cleared).
  public var tag: String
  /// Block size in bytes from the header (0 when the header does not say: big-pool blocks).
  public var blockSize: Int
}

/// Scans physical memory for pool tags.
public enum PoolScanner {
  /// Finds every block whose tag is in `tags`, in one pass. `progress(done, total)` is called
  /// between chunks (for a progress bar on a terminal).
  public static func scan(
    _ memory: any PhysicalMemory, tags: Set<String>, pointerSize: Int = 8,
    progress: ((UInt64, UInt64) -> Void)? = nil
  ) -> [PoolHit] {
    let wanted: [UInt32: String] = Dictionary(
      uniqueKeysWithValues: tags.compactMap { tag -> (UInt32, String)? in
        let bytes = Array(tag.utf8)
        guard bytes.count == 4 else { return nil }
        let value = UInt32(bytes[0]) | UInt32(bytes[1]) << 8 | UInt32(bytes[2]) << 16 | UInt32(bytes[3]) << 24
        return (value, tag)
      })
    guard !wanted.isEmpty else { return [] }
    let alignment = pointerSize == 8 ? 16 : 8
    let chunk = 1 << 20
    let total = memory.backedBytes
    var done: UInt64 = 0
    var hits: [PoolHit] = []
    for range in memory.ranges {
      var start = range.start
      while start < range.end {
        let length = Int(min(UInt64(chunk), range.end - start))
        guard let bytes = try? memory.read(at: start, count: length) else {
          start &+= UInt64(length)  // bounded by range.end
          continue
        }
        bytes.withUnsafeBytes { raw in
          var offset = 0
          while offset + alignment <= raw.count {
            let tag = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)) & 0x7fff_ffff
            if let name = wanted[tag] {
              let word = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
              let units = pointerSize == 8 ? Int((word >> 16) & 0xff) : Int((word >> 9) & 0x1ff)
              hits.append(PoolHit(header: start &+ UInt64(offset), tag: name, blockSize: units * alignment))
            }
            offset += alignment
          }
        }
        start &+= UInt64(length)  // bounded by range.end
        done &+= UInt64(length)
        progress?(done, total)
      }
    }
    return hits
  }
}
