// The one pass over physical memory that finds pool blocks of many tags at once, for every carver
// (`MmLd` loader entries, callback blocks, callback registrations). Pool headers sit on 16-byte
// boundaries on x64 (8 on x86) with the 4-byte tag at +4 (_POOL_HEADER.PoolTag in the public PDB).
// The image is cut into chunks scanned on all cores; each chunk is mapped in one call before its
// scan and released from the page table after it, so resident memory stays at a few chunks per
// job whatever the image size. Holes (pages a dump left out, sparse-file holes) are never read.

import AddressSpace
import BinaryReading
import Dispatch
import MemoryImage

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A pool block found by tag, whose header passed the checks of `PoolHeader`.
public struct PoolHit: Sendable, Hashable {
  /// Physical address of the POOL_HEADER.
  public var header: UInt64
  /// The tag as four ASCII characters (protected bit cleared).
  public var tag: String
  /// Block size in bytes from the header, header included (> 0; the block lies inside its page).
  public var blockSize: Int

  public init(header: UInt64, tag: String, blockSize: Int) {
    self.header = header
    self.tag = tag
    self.blockSize = blockSize
  }
}

/// Scans physical memory for pool tags.
public enum PoolScanner {
  /// The default number of parallel jobs: the number of online cores.
  public static var defaultJobs: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

  /// The default chunk size for `jobs` jobs: 8 MiB, less with many jobs (at most ~128 MiB mapped).
  public static func defaultChunkSize(jobs: Int) -> Int {
    var size = 8 << 20
    while size > 1 << 20, size.multipliedReportingOverflow(by: max(1, jobs)).partialValue > 64 << 20 { size >>= 1 }
    return size
  }

  /// Every block whose tag is in `tags`, in address order, from one pass with `jobs` parallel
  /// jobs (the result does not depend on `jobs` or `chunkSize`). `progress(done, total)` gets the
  /// bytes scanned so far, from one job at a time (for a progress bar on a terminal).
  public static func scan(
    _ memory: any PhysicalMemory, tags: Set<String>, pointerSize: Int = 8, jobs: Int = defaultJobs,
    chunkSize: Int? = nil, progress: (@Sendable (UInt64, UInt64) -> Void)? = nil
  ) -> [PoolHit] {
    let filter = PoolTagFilter(tags)
    guard !filter.isEmpty else { return [] }
    let jobs = min(max(1, jobs), 1024)  // the CLI's range; keeps `index + jobs` small
    var size = 4096
    let wanted = max(4096, chunkSize ?? defaultChunkSize(jobs: jobs))
    while size < wanted, size < 1 << 30 { size <<= 1 }
    let fileRuns = memory.fileRuns
    let chunks = PoolScanChunk.plan(fileRuns: fileRuns, ranges: memory.ranges, size: size)
    let total = chunks.reduce(0) { $0 &+ UInt64($1.length) }
    let state = ScanState(count: chunks.count)
    let work: @Sendable (Int) -> Void = { index in
      let chunk = chunks[index]
      let hits = scan(chunk, memory: memory, file: fileRuns?.file, filter: filter, pointerSize: pointerSize)
      // index < chunks.count and jobs ≤ 1024: no overflow.
      if let next = chunks.indices.contains(index &+ jobs) ? chunks[index &+ jobs] : nil, let offset = next.fileOffset {
        fileRuns?.file.advise(.willNeed, offset: offset, count: UInt64(next.length))  // read ahead (cold cache)
      }
      state.finish(index, hits: hits, bytes: UInt64(chunk.length)) { progress?($0, total) }
    }
    if jobs == 1 || chunks.count < 2 {
      for index in chunks.indices { work(index) }
    } else {
      DispatchQueue.concurrentPerform(iterations: min(jobs, chunks.count)) { _ in
        while let index = state.next() { work(index) }
      }
    }
    return state.merged()
  }

  /// The hits of one chunk.
  private static func scan(
    _ chunk: PoolScanChunk, memory: any PhysicalMemory, file: MappedFile?, filter: PoolTagFilter, pointerSize: Int
  ) -> [PoolHit] {
    let alignment = PoolHeader.size(pointerSize: pointerSize)
    let misalignment = Int(chunk.physical % UInt64(alignment))
    let first = misalignment == 0 ? 0 : alignment &- misalignment
    var hits: [PoolHit] = []
    let body = { (buffer: UnsafeRawBufferPointer) in
      filter.scan(buffer, first: first, stride: alignment) { offset, word, tag in
        let address = chunk.physical &+ UInt64(offset)  // offset < chunk.length
        guard let header = PoolHeader(word: word, at: address, limit: chunk.limit, pointerSize: pointerSize) else {
          return
        }
        hits.append(PoolHit(header: address, tag: filter.names[tag], blockSize: header.blockSize))
      }
    }
    if let file, let offset = chunk.fileOffset {
      let count = UInt64(chunk.length)
      file.advise(.populate, offset: offset, count: count)
      _ = try? file.withBytes(at: offset, count: chunk.length, body)
      file.advise(.release, offset: offset, count: count)
    } else if let bytes = try? memory.read(at: chunk.physical, count: chunk.length) {
      bytes.withUnsafeBytes(body)
    }
    return hits
  }
}

/// Shared state of one scan: the next chunk to take, each chunk's hits, bytes done.
private final class ScanState: @unchecked Sendable {
  // @unchecked: every member is read and written under `lock`.
  private let lock = Lock()
  private var nextIndex = 0
  private var results: [[PoolHit]]
  private var done: UInt64 = 0

  init(count: Int) { results = Array(repeating: [], count: count) }

  func next() -> Int? {
    lock.withLock {
      guard nextIndex < results.count else { return nil }
      defer { nextIndex &+= 1 }
      return nextIndex
    }
  }

  /// Stores a chunk's hits and tells `report` the bytes done so far (under the lock: one call at a
  /// time, in increasing order).
  func finish(_ index: Int, hits: [PoolHit], bytes: UInt64, report: (UInt64) -> Void) {
    lock.withLock {
      results[index] = hits
      done &+= bytes  // ≤ the total of all chunks
      report(done)
    }
  }

  /// All hits, chunk by chunk: address order.
  func merged() -> [PoolHit] { lock.withLock { results.flatMap { $0 } } }
}
