// How a pool scan splits physical memory into work: chunks that never straddle a backed run,
// cut at physical multiples of the chunk size (so every aligned pool slot lies in exactly one
// chunk), numbered in address order (results are merged in that order, whatever the job count).

import MemoryImage

/// One piece of a pool scan.
struct PoolScanChunk: Sendable, Hashable {
  /// First physical address.
  var physical: UInt64
  /// Length in bytes (> 0).
  var length: Int
  /// File offset of the first byte when the image file is mapped; nil: read through the image.
  var fileOffset: UInt64?
  /// One past the last backed byte of the memory holding the chunk (blocks may not pass it).
  var limit: UInt64

  /// Chunks of `fileRuns` when there are runs, else of the image's backed `ranges`; each at most
  /// `size` bytes (a power of two ≥ 4096).
  static func plan(fileRuns: FileRuns?, ranges: [PhysicalRange], size: Int) -> [PoolScanChunk] {
    let step = UInt64(size)
    var chunks: [PoolScanChunk] = []
    func cut(_ start: UInt64, _ length: UInt64, _ fileOffset: UInt64?, _ limit: UInt64) {
      var at = start
      let end = start.addingReportingOverflow(length).overflow ? UInt64.max : start &+ length
      // Each piece is > 0 bytes and ends at the next multiple of `step` or at `end`: the loop ends.
      while at < end {
        let boundary = (at / step).addingReportingOverflow(1).overflow ? UInt64.max : (at / step &+ 1) &* step
        let stop = min(end, boundary)
        let offset = fileOffset.map { $0 &+ (at &- start) }  // inside the validated run
        chunks.append(PoolScanChunk(physical: at, length: Int(stop &- at), fileOffset: offset, limit: limit))
        at = stop
      }
    }
    if let fileRuns {
      for run in fileRuns.runs { cut(run.physical, run.length, run.fileOffset, run.backedEnd) }
    } else {
      for range in ranges { cut(range.start, range.length, nil, range.end) }
    }
    return chunks
  }
}
