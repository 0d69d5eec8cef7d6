// Large sequential scans over a mapping (pool carving): which parts of the file hold data (holes
// of a sparse file read as zeros and need not be touched), and paging advice so a scan keeps only
// the range it is working on resident: read ahead, populate, release behind.

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

extension MappedFile {
  /// Paging advice for a byte range of the mapping.
  public enum Advice: Sendable {
    /// Start reading the range from disk now (MADV_WILLNEED).
    case willNeed
    /// Map the whole range into the page table in one call (MADV_POPULATE_READ, Linux 5.14+), so
    /// the scan takes no page faults; ignored where unsupported.
    case populate
    /// Drop the range from this process's page table (MADV_DONTNEED); the page cache keeps it, a
    /// later read maps it again. Safe: the mapping is read-only and private, never written.
    case release
  }

  /// Applies `advice` to `[offset, offset+count)`, rounded to whole pages (outwards for reading
  /// ahead, inwards for releasing, so a neighbour's pages stay). Out-of-range parts are ignored.
  public func advise(_ advice: Advice, offset: UInt64, count: UInt64) {
    #if canImport(Glibc)
      guard let base, offset < size, count > 0 else { return }
      let page = UInt64(max(4096, sysconf(Int32(_SC_PAGESIZE))))
      let end = min(size, offset.addingReportingOverflow(count).overflow ? size : offset &+ count)
      var lo: UInt64
      var hi: UInt64
      switch advice {
      case .willNeed, .populate:
        lo = offset / page * page
        hi = min(UInt64(mappedLength), (end / page &+ (end % page == 0 ? 0 : 1)) &* page)  // end ≤ size
      case .release:
        lo = (offset / page &+ (offset % page == 0 ? 0 : 1)) &* page  // offset < size
        // The last, partial page of the file is released too when the range reaches the end.
        hi = end == size ? UInt64(mappedLength) : end / page * page
      }
      guard lo < hi, let start = Int(exactly: lo), let length = Int(exactly: hi &- lo) else { return }
      let pointer = UnsafeMutableRawPointer(mutating: base + start)
      switch advice {
      case .willNeed: _ = madvise(pointer, length, MADV_WILLNEED)
      case .populate: _ = madvise(pointer, length, Self.madvPopulateRead)
      case .release: _ = madvise(pointer, length, MADV_DONTNEED)
      }
    #endif
  }

  /// SEEK_DATA and SEEK_HOLE of <unistd.h> (Linux, macOS: 3 and 4; Glibc exports them only with _GNU_SOURCE).
  private static var seekData: Int32 { 3 }
  private static var seekHole: Int32 { 4 }

  /// MADV_POPULATE_READ from <linux/mman.h> (Linux 5.14); older kernels answer EINVAL.
  private static var madvPopulateRead: Int32 { 22 }

  /// Byte ranges of the file that hold data, sorted: the whole file, less the holes of a sparse
  /// file where the file system reports them (SEEK_DATA/SEEK_HOLE); the whole file otherwise.
  public func dataExtents() -> [(offset: UInt64, length: UInt64)] {
    guard size > 0 else { return [] }
    let whole = [(offset: UInt64(0), length: size)]
    #if canImport(Glibc)
      let fd = open(path, O_RDONLY)
      guard fd >= 0 else { return whole }
      defer { close(fd) }
      var st = stat()
      // Only the very file that is mapped (not one renamed into its place since).
      guard fstat(fd, &st) == 0, UInt64(st.st_dev) == identity.device, UInt64(st.st_ino) == identity.inode,
        st.st_size == off_t(clamping: size)
      else { return whole }
      var extents: [(offset: UInt64, length: UInt64)] = []
      var at: off_t = 0
      let end = off_t(clamping: size)
      // Each step moves `at` forward (a data start, then a hole start past it): at most one step
      // per extent, so the loop ends.
      while at < end {
        let data = lseek(fd, at, Self.seekData)
        if data < 0 { return errno == ENXIO ? extents : whole }  // ENXIO: no data after `at`
        let hole = lseek(fd, data, Self.seekHole)
        guard hole > data, data >= at else { return whole }
        let stop = min(hole, end)
        extents.append((offset: UInt64(data), length: UInt64(stop - data)))  // 0 ≤ data < stop ≤ end
        at = stop
      }
      return extents
    #else
      return whole
    #endif
  }
}
