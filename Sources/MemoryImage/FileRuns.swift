// Where an image's physical memory lies in its file, for scanners that read it in place (pool
// carving): only bytes that hold memory are listed. Headers and run tables of crash dumps, the gaps
// between ELF and LiME segments, pages a dump left out, and holes of sparse files (which read as
// zero and can hold no pool tag) are not, so a scan never touches them.

import BinaryReading

/// A piece of physical memory stored contiguously in the image file.
public struct FileRun: Sendable, Hashable {
  /// First physical address.
  public var physical: UInt64
  /// Length in bytes (> 0).
  public var length: UInt64
  /// File offset of the first byte.
  public var fileOffset: UInt64
  /// One past the last address of the backed physical range holding this run (a block that
  /// starts in the run may end past the run, e.g. in a sparse hole, but never past this).
  public var backedEnd: UInt64

  public init(physical: UInt64, length: UInt64, fileOffset: UInt64, backedEnd: UInt64) {
    self.physical = physical
    self.length = length
    self.fileOffset = fileOffset
    self.backedEnd = backedEnd
  }
}

/// The mapped file and its runs, sorted by physical address.
public struct FileRuns: Sendable {
  public let file: MappedFile
  public let runs: [FileRun]

  /// Runs of `segments` (physical start, length, file offset; sorted, validated) cut to the file's
  /// data extents; `ranges` are the image's backed physical ranges.
  init(file: MappedFile, segments: [(start: UInt64, length: UInt64, fileOffset: UInt64)], ranges: [PhysicalRange]) {
    self.file = file
    let extents = file.dataExtents()
    var runs: [FileRun] = []
    var e = 0
    var r = 0
    for segment in segments {
      // Segments and extents are both sorted by file offset only for raw images; for the others
      // each segment searches the extents from the start of its own file range (binary search).
      let fileEnd = segment.fileOffset &+ segment.length  // validated inside the file
      e = Self.firstExtent(extents, endingAfter: segment.fileOffset)
      while r < ranges.count, ranges[r].end <= segment.start { r &+= 1 }
      let backedEnd = r < ranges.count ? ranges[r].end : segment.start &+ segment.length
      while e < extents.count, extents[e].offset < fileEnd {
        let lo = max(extents[e].offset, segment.fileOffset)
        let hi = min(extents[e].offset &+ extents[e].length, fileEnd)  // extents lie inside the file
        if lo < hi {
          runs.append(
            FileRun(
              physical: segment.start &+ (lo &- segment.fileOffset), length: hi &- lo, fileOffset: lo,
              backedEnd: backedEnd))  // lo ≥ fileOffset, inside the segment
        }
        e &+= 1
      }
    }
    self.runs = runs.sorted { $0.physical < $1.physical }
  }

  private static func firstExtent(_ extents: [(offset: UInt64, length: UInt64)], endingAfter offset: UInt64) -> Int {
    var lo = 0
    var hi = extents.count
    while lo < hi {
      let mid = lo &+ (hi &- lo) >> 1  // lo ≤ mid < hi
      if extents[mid].offset &+ extents[mid].length <= offset { lo = mid &+ 1 } else { hi = mid }
    }
    return lo
  }

  /// Bytes in all runs.
  public var totalBytes: UInt64 { runs.reduce(0) { $0 &+ $1.length } }
}

extension RawImage {
  public var fileRuns: FileRuns? {
    FileRuns(file: file, segments: ranges.map { ($0.start, $0.length, $0.start) }, ranges: ranges)
  }
}

extension SegmentedImage {
  public var fileRuns: FileRuns? {
    let segments = (0..<map.count).map { i in
      (start: map.starts[i], length: map.ends[i] &- map.starts[i], fileOffset: map.fileOffsets[i])  // end > start
    }
    return FileRuns(file: file, segments: segments, ranges: ranges)
  }
}
