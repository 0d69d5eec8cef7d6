// Test doubles: physical memory held in a byte array, and a builder that writes page tables into it.

import AddressSpace
import BinaryReading
import MemoryImage

/// Physical memory backed by an in-memory array (immutable once built).
final class TestMemory: PhysicalMemory {
  let bytes: [UInt8]
  let formatName = "test"
  let path = "<test memory>"
  var fileSize: UInt64 { UInt64(bytes.count) }
  let ranges: [PhysicalRange]

  init(_ bytes: [UInt8]) {
    self.bytes = bytes
    self.ranges = bytes.isEmpty ? [] : [PhysicalRange(start: 0, length: UInt64(bytes.count))]
  }

  func read(at address: UInt64, count: Int) throws(MemoryImageError) -> [UInt8] {
    guard count >= 0, let start = Int(exactly: address), start <= bytes.count, count <= bytes.count - start else {
      throw .notBacked(path: path, address: address, count: count)
    }
    return Array(bytes[start..<(start + count)])
  }
}

/// Writes little-endian values into a zeroed physical memory of a given size.
struct MemoryBuilder {
  var bytes: [UInt8]

  init(size: Int) { bytes = [UInt8](repeating: 0, count: size) }

  mutating func put64(_ address: UInt64, _ value: UInt64) {
    for i in 0..<8 { bytes[Int(address) + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
  }

  mutating func put32(_ address: UInt64, _ value: UInt32) {
    for i in 0..<4 { bytes[Int(address) + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i))) }
  }

  mutating func put16(_ address: UInt64, _ value: UInt16) {
    bytes[Int(address)] = UInt8(truncatingIfNeeded: value)
    bytes[Int(address) + 1] = UInt8(truncatingIfNeeded: value >> 8)
  }

  mutating func put(_ address: UInt64, _ data: [UInt8]) {
    bytes.replaceSubrange(Int(address)..<(Int(address) + data.count), with: data)
  }

  /// Fills the page at `address` with a recognisable pattern: byte i = (tag + i) & 0xff.
  mutating func pattern(_ address: UInt64, tag: UInt8, count: Int = 0x1000) {
    let page = (0..<256).map { tag &+ UInt8($0) }
    var chunk: [UInt8] = []
    chunk.reserveCapacity(count)
    while chunk.count < count { chunk += page.prefix(count - chunk.count) }
    put(address, chunk)
  }

  func memory() -> TestMemory { TestMemory(bytes) }
}

/// Entry flag bits (Intel SDM Vol. 3A table 4-19 and neighbours).
enum PTE {
  static let p: UInt64 = 0x1
  static let rw: UInt64 = 0x2
  static let us: UInt64 = 0x4
  static let ps: UInt64 = 0x80
  static let nx: UInt64 = 1 << 63
  static let prw: UInt64 = p | rw
  static let prwu: UInt64 = p | rw | us
}

/// Composes an x64 virtual address from its indices (SDM figure 4-8), sign-extending bit 47.
func x64VA(_ pml4: UInt64, _ pdpt: UInt64, _ pd: UInt64, _ pt: UInt64, _ offset: UInt64 = 0) -> UInt64 {
  let va = pml4 << 39 | pdpt << 30 | pd << 21 | pt << 12 | offset
  return pml4 >= 256 ? va | 0xffff_0000_0000_0000 : va
}
