// LiME (Linux Memory Extractor) images: a sequence of ranges, each a 32-byte header followed by
// the range's bytes. Layout source: LiME's lime_mem_range_header (src/lime.h): magic u32
// 0x4C694D45, version u32 (1), s_addr u64, e_addr u64 (inclusive), reserved[8].

import BinaryReading

/// Parses a LiME file's range headers into segments.
enum LiMEImage {
  static let magic: UInt32 = 0x4C69_4D45
  static let headerSize: UInt64 = 32

  static func open(_ file: MappedFile) throws(MemoryImageError) -> SegmentedImage {
    let r = ImageFileReader(file)
    var segments: [Segment] = []
    var offset: UInt64 = 0
    // Every pass moves at least headerSize + 1 bytes forward, so the loop ends.
    while offset < r.size {
      try r.require(offset, headerSize, "LiME range header \(segments.count)")
      let m = try r.u32(offset, "LiME magic")
      guard m == magic else {
        throw r.corrupt(
          offset, "LiME range header \(segments.count): magic is \(Hex.format(UInt64(m))), expected 0x4c694d45 ('EMiL')"
        )
      }
      let version = try r.u32(offset + 4, "LiME version")
      guard version == 1 else {
        throw .unsupported(
          path: r.path, message: "LiME version \(version) at offset \(Hex.format(offset)) (expected 1)")
      }
      let start = try r.u64(offset + 8, "LiME s_addr")
      let last = try r.u64(offset + 16, "LiME e_addr")
      guard last >= start else {
        throw r.corrupt(
          offset,
          "LiME range \(segments.count): end \(Hex.format(last)) is below start \(Hex.format(start)), expected end ≥ start"
        )
      }
      let length = try r.add(last - start, 1, at: offset, "LiME range length")
      let data = offset + headerSize  // require() above checked offset + headerSize
      let next = try r.add(data, length, at: offset, "LiME range end")
      guard next <= r.size else {
        throw r.corrupt(
          offset,
          "LiME range \(segments.count) [\(Hex.format(start)), \(Hex.format(last))] needs \(Hex.format(length)) bytes but the file ends at \(Hex.format(r.size))"
        )
      }
      segments.append(Segment(start: start, length: length, fileOffset: data, describedAt: offset))
      offset = next
    }
    let map = try SegmentMap(validating: segments, reader: r, what: "LiME range")
    return SegmentedImage(file: file, formatName: "lime", map: map)
  }
}
