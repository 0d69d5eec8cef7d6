// The memory region table of a VMware suspend/snapshot state file (.vmss / .vmsn) that sits beside
// a .vmem: guests with more than ~3 GiB have RAM above the PCI hole stored after the low RAM.
// Layout source: Volatility 3 layers/vmware.py (header "<4sII": magic, unknown, group count;
// groups of 80 bytes: 64-byte name, tag offset u64, u64; tags: flags u8 (bits 6-7 index count,
// bits 0-5 data size, 62/63 = long data), name length u8, name, u32 indices, data) and the
// `regionsCount`, `regionPPN[i]`, `regionPageNum[i]`, `regionSize[i]` tags of group "memory".

import BinaryReading

/// Reads the region table of a VMware state file.
enum VMwareState {
  static let magics: Set<UInt32> = [0xBED2_BED0, 0xBAD1_BAD1, 0xBED2_BED2, 0xBED3_BED3]
  static let pageSize: UInt64 = 0x1000
  static let maxTags = 1 << 20
  static let maxRegions: UInt64 = 4096

  /// Whether the file starts with a VMware state magic.
  static func looksLikeState(_ r: ImageFileReader) -> Bool {
    guard let m = try? r.u32(0, "VMware state magic") else { return false }
    return magics.contains(m)
  }

  /// `(physical page, vmem page, page count)` regions; empty when the state file has none.
  static func regions(_ r: ImageFileReader) throws(MemoryImageError) -> [(ppn: UInt64, page: UInt64, count: UInt64)] {
    let magic = try r.u32(0, "VMware state magic")
    guard magics.contains(magic) else {
      throw r.corrupt(
        0, "VMware state magic is \(Hex.format(UInt64(magic))), expected 0xbed2bed0/0xbad1bad1/0xbed2bed2/0xbed3bed3")
    }
    let version = magic & 0xF
    let groupCount = UInt64(try r.u32(8, "VMware group count"))
    try r.require(12, try r.multiply(groupCount, 80, at: 8, "VMware group table size"), "VMware group table")
    var memoryTags: UInt64? = nil
    for g in 0..<groupCount {
      let at = 12 + g * 80
      let name = try r.bytes(at, 64, "VMware group name").prefix { $0 != 0 }
      if String(decoding: name, as: UTF8.self) == "memory" {
        memoryTags = try r.u64(at + 64, "VMware group tag offset")
        break
      }
    }
    guard let start = memoryTags else { return [] }
    var values: [String: UInt64] = [:]
    var offset = start
    for _ in 0..<maxTags {
      let flags = try r.u8(offset, "VMware tag flags")
      let nameLength = UInt64(try r.u8(offset + 1, "VMware tag name length"))
      if flags == 0 && nameLength == 0 { break }
      let name = String(decoding: try r.bytes(offset + 2, Int(nameLength), "VMware tag name"), as: UTF8.self)
      let indexCount = UInt64((flags >> 6) & 3)
      var indices: [UInt32] = []
      for k in 0..<indexCount { indices.append(try r.u32(offset + 2 + nameLength + 4 * k, "VMware tag index")) }
      let dataAt = offset + 2 + nameLength + 4 * indexCount
      let dataSize = UInt64(flags & 0x3F)
      if dataSize >= 62 {
        let lengthSize: UInt64 = version == 0 ? 4 : 8
        let size =
          lengthSize == 4
          ? UInt64(try r.u32(dataAt, "VMware long-data size")) : try r.u64(dataAt, "VMware long-data size")
        offset = try r.add(dataAt + 2 * lengthSize + 2, size, at: offset, "VMware long-data tag")
        continue
      }
      var value: UInt64 = 0
      if dataSize > 0 {
        let bytes = try r.bytes(dataAt, Int(dataSize), "VMware tag '\(name)' data")
        for (k, b) in bytes.prefix(8).enumerated() { value |= UInt64(b) << (8 * UInt64(k)) }
      }
      let key = indices.isEmpty ? name : name + "[" + indices.map(String.init).joined(separator: ",") + "]"
      values[key] = value
      offset = dataAt + dataSize
    }
    guard let count = values["regionsCount"], count > 0 else { return [] }
    guard count <= maxRegions else {
      throw r.corrupt(start, "VMware regionsCount is \(count), expected at most \(maxRegions)")
    }
    var result: [(ppn: UInt64, page: UInt64, count: UInt64)] = []
    for i in 0..<count {
      guard let ppn = values["regionPPN[\(i)]"], let page = values["regionPageNum[\(i)]"],
        let size = values["regionSize[\(i)]"]
      else {
        throw r.corrupt(
          start, "VMware memory group lacks regionPPN/regionPageNum/regionSize for region \(i) of \(count)")
      }
      result.append((ppn, page, size))
    }
    return result
  }
}
