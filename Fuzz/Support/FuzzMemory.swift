// Physical memory held in arrays, for fuzz targets: a few backed ranges; every other address fails
// to read, as an unbacked page of a real image does.

import MemoryImage

/// Physical memory made of byte arrays at fixed physical addresses (sorted, non-overlapping).
final class FuzzMemory: PhysicalMemory, @unchecked Sendable {
  // @unchecked: immutable after init.
  let formatName = "fuzz"
  let path = "<fuzz input>"
  let parts: [(start: UInt64, bytes: [UInt8])]
  let ranges: [PhysicalRange]
  var fileSize: UInt64 { backedBytes }

  init(_ parts: [(start: UInt64, bytes: [UInt8])]) {
    self.parts = parts.filter { !$0.bytes.isEmpty }.sorted { $0.start < $1.start }
    ranges = self.parts.map { PhysicalRange(start: $0.start, length: UInt64($0.bytes.count)) }
  }

  func read(at address: UInt64, count: Int) throws(MemoryImageError) -> [UInt8] {
    for p in parts where address >= p.start && address - p.start < UInt64(p.bytes.count) {
      let offset = Int(address - p.start)
      guard count >= 0, count <= p.bytes.count - offset else { break }
      return Array(p.bytes[offset..<(offset + count)])
    }
    throw .notBacked(path: path, address: address, count: count)
  }

  func readUInt64(at address: UInt64) throws(MemoryImageError) -> UInt64 {
    try read(at: address, count: 8).enumerated().reduce(0) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
  }

  func readUInt32(at address: UInt64) throws(MemoryImageError) -> UInt32 {
    try read(at: address, count: 4).enumerated().reduce(0) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }
  }
}
