// A sparse physical memory being built: 4 KiB pages held only once written, a bump page allocator,
// and holes (unbacked ranges) like the legacy VGA hole or a PCI window of a real machine.

/// Physical memory of a synthetic machine, assembled page by page and written out as raw, LiME or ELF core.
public final class PhysicalMemoryBuilder {
  /// Size of a physical page.
  public static let pageSize: UInt64 = 0x1000

  private static let zeroPage = [UInt8](repeating: 0, count: 0x1000)

  /// One past the highest physical address (the raw file's length).
  public let size: UInt64
  /// Backed ranges `[start, end)`, sorted, page aligned: the memory map minus the holes.
  public let backedRanges: [Range<UInt64>]
  /// Written pages: page frame number → 4096 bytes.
  private var pages: [UInt64: [UInt8]] = [:]
  /// Pages handed out by the allocator or reserved by the caller.
  private var reserved: Set<UInt64> = []
  /// Where the allocator looks next.
  public private(set) var nextAllocation: UInt64

  /// Memory of `size` bytes with `holes` unbacked; the allocator starts at `allocationStart`.
  public init(size: UInt64, holes: [Range<UInt64>] = [], allocationStart: UInt64 = 0x0010_0000) throws {
    let page = Self.pageSize
    guard size > 0, size % page == 0 else {
      throw ImageBuilderError.misaligned(what: "memory size", value: size, alignment: page)
    }
    var ranges: [Range<UInt64>] = [0..<size]
    for hole in holes.sorted(by: { $0.lowerBound < $1.lowerBound }) {
      guard hole.lowerBound % page == 0, hole.upperBound % page == 0 else {
        throw ImageBuilderError.misaligned(what: "hole", value: hole.lowerBound, alignment: page)
      }
      guard hole.upperBound <= size else {
        throw ImageBuilderError.outOfMemory(address: hole.lowerBound, count: UInt64(hole.count), size: size)
      }
      ranges = ranges.flatMap { r -> [Range<UInt64>] in
        guard r.overlaps(hole) else { return [r] }
        var parts: [Range<UInt64>] = []
        if r.lowerBound < hole.lowerBound { parts.append(r.lowerBound..<hole.lowerBound) }
        if hole.upperBound < r.upperBound { parts.append(hole.upperBound..<r.upperBound) }
        return parts
      }
    }
    self.size = size
    self.backedRanges = ranges
    self.nextAllocation = alignUp(allocationStart, page)
  }

  /// Whether `address` is in a backed range.
  public func isBacked(_ address: UInt64) -> Bool { backedRanges.contains { $0.contains(address) } }

  /// Page frame numbers of written pages, ascending.
  public var writtenPageFrames: [UInt64] { pages.keys.sorted() }

  // MARK: Allocation

  /// Keeps the allocator away from `[address, address + length)` (e.g. a region placed by hand).
  public func reserve(_ address: UInt64, length: UInt64) throws {
    try checkRange(address, length)
    var frame = address / Self.pageSize
    let end = alignUp(address + length, Self.pageSize) / Self.pageSize
    while frame < end {
      reserved.insert(frame)
      frame += 1
    }
  }

  /// A fresh zeroed, backed page (its physical address); never one written or reserved before.
  public func allocatePage() throws -> UInt64 {
    try allocate(length: Self.pageSize, alignment: Self.pageSize)
  }

  /// `length` bytes of fresh, physically contiguous, backed memory aligned to `alignment`.
  public func allocate(length: UInt64, alignment: UInt64 = 0x1000) throws -> UInt64 {
    let page = Self.pageSize
    guard alignment >= page, alignment % page == 0 else {
      throw ImageBuilderError.misaligned(what: "allocation alignment", value: alignment, alignment: page)
    }
    guard length <= size else { throw ImageBuilderError.exhausted(from: nextAllocation, requested: length) }
    let pagesNeeded = max(alignUp(length, page) / page, 1)
    var candidate = alignUp(nextAllocation, alignment)
    while candidate < size, pagesNeeded <= (size - candidate) / page {
      if let blocker = firstUnavailableFrame(from: candidate / page, count: pagesNeeded) {
        candidate = alignUp((blocker + 1) * page, alignment)
        continue
      }
      for frame in (candidate / page)..<(candidate / page + pagesNeeded) { reserved.insert(frame) }
      if candidate == alignUp(nextAllocation, page) { nextAllocation = candidate + pagesNeeded * page }
      return candidate
    }
    throw ImageBuilderError.exhausted(from: nextAllocation, requested: length)
  }

  private func firstUnavailableFrame(from start: UInt64, count: UInt64) -> UInt64? {
    for frame in start..<(start + count)
    where reserved.contains(frame) || pages[frame] != nil
      || !isBacked(frame * Self.pageSize)
    {
      return frame
    }
    return nil
  }

  // MARK: Reading and writing

  private func checkRange(_ address: UInt64, _ count: UInt64) throws {
    let (end, overflow) = address.addingReportingOverflow(count)
    guard !overflow, end <= size else {
      throw ImageBuilderError.outOfMemory(address: address, count: count, size: size)
    }
  }

  /// Writes `bytes` at physical `address`; every byte must be backed. Zero bytes on unwritten pages
  /// create no page (the output stays sparse).
  public func write(_ bytes: [UInt8], at address: UInt64) throws {
    try checkRange(address, UInt64(bytes.count))
    var done = 0
    while done < bytes.count {
      let pa = address + UInt64(done)
      guard isBacked(pa) else { throw ImageBuilderError.inHole(address: pa) }
      let frame = pa / Self.pageSize
      let inPage = Int(pa % Self.pageSize)
      let chunk = min(bytes.count - done, Int(Self.pageSize) - inPage)
      let slice = bytes[done..<(done + chunk)]
      if pages[frame] != nil || !isAllZero(slice) {
        // In-place through the default subscript: no copy of the page.
        pages[frame, default: Self.zeroPage].replaceSubrange(inPage..<(inPage + chunk), with: slice)
      }
      done += chunk
    }
  }

  /// Writes a little-endian integer at physical `address`.
  public func writeLE<T: FixedWidthInteger>(_ value: T, at address: UInt64) throws {
    var raw: [UInt8] = []
    withUnsafeBytes(of: value.littleEndian) { raw.append(contentsOf: $0) }
    try write(raw, at: address)
  }

  /// Zeroes `[address, address + count)`; whole pages become holes in the sparse output again.
  public func zero(at address: UInt64, count: UInt64) throws {
    try checkRange(address, count)
    var pa = address
    let end = address + count
    while pa < end {
      let frame = pa / Self.pageSize
      let pageEnd = (frame + 1) * Self.pageSize
      let chunkEnd = min(end, pageEnd)
      if pa % Self.pageSize == 0, chunkEnd == pageEnd {
        pages[frame] = nil
      } else if pages[frame] != nil {
        let from = Int(pa % Self.pageSize)
        let to = from + Int(chunkEnd - pa)
        pages[frame, default: Self.zeroPage].replaceSubrange(from..<to, with: repeatElement(0, count: to - from))
      }
      pa = chunkEnd
    }
  }

  /// `count` bytes at physical `address` (zeros where nothing was written).
  public func read(at address: UInt64, count: Int) throws -> [UInt8] {
    guard count >= 0 else { throw ImageBuilderError.invalid("negative read length \(count)") }
    try checkRange(address, UInt64(count))
    var out: [UInt8] = []
    out.reserveCapacity(count)
    var pa = address
    while out.count < count {
      let frame = pa / Self.pageSize
      let inPage = Int(pa % Self.pageSize)
      let chunk = min(count - out.count, Int(Self.pageSize) - inPage)
      if let page = pages[frame] {
        out.append(contentsOf: page[inPage..<(inPage + chunk)])
      } else {
        out.append(contentsOf: repeatElement(0, count: chunk))
      }
      pa += UInt64(chunk)
    }
    return out
  }

  /// A little-endian integer at physical `address`.
  public func readLE<T: FixedWidthInteger>(_ type: T.Type, at address: UInt64) throws -> T {
    let raw = try read(at: address, count: MemoryLayout<T>.size)
    return raw.reversed().reduce(T.zero) { ($0 << 8) | T(truncatingIfNeeded: $1) }
  }

  /// The written page with frame number `frame`, if any (for the writers).
  func page(_ frame: UInt64) -> [UInt8]? { pages[frame] }
}
