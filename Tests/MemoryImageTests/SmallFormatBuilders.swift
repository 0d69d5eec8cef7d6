// Builds synthetic LiME files (lime_mem_range_header, LiME src/lime.h) and VMware state files
// (.vmss with a "memory" group region table, layout as read by Volatility 3 layers/vmware.py).

enum LiMEBuilder {
  /// Ranges of (start, bytes); the header's end address is inclusive.
  static func image(_ ranges: [(start: UInt64, data: [UInt8])]) -> [UInt8] {
    var out: [UInt8] = []
    for r in ranges {
      var h = Bytes(count: 32)
      h.put(UInt32(0x4C69_4D45), at: 0)
      h.put(UInt32(1), at: 4)
      h.put(r.start, at: 8)
      h.put(r.start + UInt64(r.data.count) - 1, at: 16)
      out += h.data + r.data
    }
    return out
  }
}

enum VMSSBuilder {
  /// A state file whose "memory" group lists `regions` as (PPN, vmem page, page count).
  static func state(regions: [(ppn: UInt32, page: UInt32, count: UInt32)]) -> [UInt8] {
    var b = Bytes(count: 12 + 80)
    b.put(UInt32(0xBED2_BED0), at: 0)
    b.put(UInt32(0), at: 4)
    b.put(UInt32(1), at: 8)
    b.put(Array("memory".utf8), at: 12)
    b.put(UInt64(12 + 80), at: 12 + 64)
    func tag(_ name: String, _ indices: [UInt32], _ value: UInt32) {
      let n = Array(name.utf8)
      b.append([UInt8(indices.count << 6 | 4), UInt8(n.count)] + n)
      for i in indices { withUnsafeBytes(of: i.littleEndian) { b.append(Array($0)) } }
      withUnsafeBytes(of: value.littleEndian) { b.append(Array($0)) }
    }
    tag("Memory", [], 0)
    // A long-data tag (size code 62; version-0 files: u32 size, u32 size, 2 padding bytes, data).
    let blob = Array("opaque-blob".utf8)
    b.append([62, 4] + Array("blob".utf8))
    withUnsafeBytes(of: UInt32(blob.count).littleEndian) { b.append(Array($0)) }
    withUnsafeBytes(of: UInt32(blob.count).littleEndian) { b.append(Array($0)) }
    b.append([0, 0] + blob)
    tag("regionsCount", [], UInt32(regions.count))
    for (i, r) in regions.enumerated() {
      tag("regionPPN", [UInt32(i)], r.ppn)
      tag("regionPageNum", [UInt32(i)], r.page)
      tag("regionSize", [UInt32(i)], r.count)
    }
    b.append([0, 0])
    return b.data
  }
}
