// The physical → file mapping shared by every non-raw format: sorted, non-overlapping segments
// looked up by binary search (the page-walk hot path goes through `index(containing:)`).

import BinaryReading

/// One piece of physical memory stored contiguously in the file.
struct Segment: Sendable, Hashable {
  /// First physical address.
  var start: UInt64
  /// Length in bytes (> 0).
  var length: UInt64
  /// Offset of the first byte in the file.
  var fileOffset: UInt64
  /// Offset of the metadata that described this segment (for error messages).
  var describedAt: UInt64
}

/// Validated segments in parallel arrays (cache-friendly search).
struct SegmentMap: Sendable {
  let starts: [UInt64]
  /// One past the last address of each segment.
  let ends: [UInt64]
  let fileOffsets: [UInt64]

  var count: Int { starts.count }

  /// Checks every segment against the file (inside it, no overflow) and against the others (no
  /// overlap), then sorts and merges neighbours that are contiguous both physically and in the file.
  init(validating input: [Segment], reader: ImageFileReader, what: String) throws(MemoryImageError) {
    var segments: [Segment] = []
    segments.reserveCapacity(input.count)
    for s in input where s.length > 0 {
      let (_, physOverflow) = s.start.addingReportingOverflow(s.length - 1)
      guard !physOverflow else {
        throw reader.corrupt(
          s.describedAt,
          "\(what) at physical \(Hex.format(s.start)) with length \(Hex.format(s.length)) passes the end of the address space"
        )
      }
      let (fileEnd, fileOverflow) = s.fileOffset.addingReportingOverflow(s.length)
      guard !fileOverflow, fileEnd <= reader.size else {
        throw reader.corrupt(
          s.describedAt,
          "\(what) for physical \(Hex.format(s.start)) needs file bytes [\(Hex.format(s.fileOffset)), +\(Hex.format(s.length))) but the file ends at \(Hex.format(reader.size))"
        )
      }
      segments.append(s)
    }
    segments.sort { $0.start < $1.start }
    var starts: [UInt64] = []
    var ends: [UInt64] = []
    var offsets: [UInt64] = []
    starts.reserveCapacity(segments.count)
    ends.reserveCapacity(segments.count)
    offsets.reserveCapacity(segments.count)
    for s in segments {
      // Saturating end: a segment reaching exactly 2^64 ends at UInt64.max (the last byte is then
      // unreachable, an accepted limitation for a range no machine has).
      let end = s.start.addingReportingOverflow(s.length).overflow ? UInt64.max : s.start &+ s.length
      if let lastEnd = ends.last, let lastStart = starts.last, let lastOffset = offsets.last {
        guard s.start >= lastEnd else {
          throw reader.corrupt(
            s.describedAt,
            "\(what) at physical \(Hex.format(s.start)) overlaps the one at [\(Hex.format(lastStart)), \(Hex.format(lastEnd)))"
          )
        }
        // Merge when physically adjacent and stored back to back (cannot overflow: both were checked).
        if s.start == lastEnd, lastOffset &+ (lastEnd &- lastStart) == s.fileOffset {
          ends[ends.count - 1] = end
          continue
        }
      }
      starts.append(s.start)
      ends.append(end)
      offsets.append(s.fileOffset)
    }
    self.starts = starts
    self.ends = ends
    self.fileOffsets = offsets
  }

  /// The segment holding `address`, if any.
  @inline(__always)
  func index(containing address: UInt64) -> Int? {
    var lo = 0
    var hi = starts.count
    // Find the first segment whose start is above `address`; the one before it may hold it.
    while lo < hi {
      let mid = lo &+ (hi &- lo) >> 1  // lo ≤ mid < hi: no overflow
      if starts[mid] <= address { lo = mid &+ 1 } else { hi = mid }
    }
    guard lo > 0 else { return nil }
    let i = lo &- 1
    return address < ends[i] ? i : nil
  }

  /// Backed physical ranges: segments merged where physically adjacent.
  var ranges: [PhysicalRange] {
    var result: [PhysicalRange] = []
    for i in 0..<starts.count {
      if let last = result.last, last.end == starts[i] {
        result[result.count - 1] = PhysicalRange(start: last.start, length: ends[i] &- last.start)  // ends ≥ start
      } else {
        result.append(PhysicalRange(start: starts[i], length: ends[i] &- starts[i]))  // end > start
      }
    }
    return result
  }
}
