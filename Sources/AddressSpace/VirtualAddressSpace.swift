// Virtual memory of one address space (a directory table base and a paging mode) over any physical
// memory image: translation through a bounded cache, and reads that span pages.

import MemoryImage

/// Virtual memory as seen through the page tables rooted at `dtb`. Thread-safe: the bounded
/// translation cache uses per-slot sequence locks (lock-free lookups on Linux, a mutex elsewhere);
/// everything else is immutable.
public final class VirtualAddressSpace: Sendable {
  /// The physical memory the tables and the data live in.
  public let memory: any PhysicalMemory
  /// The directory table base as given (CR3; flag bits are masked off when walking).
  public let dtb: UInt64
  /// The paging mode.
  public let mode: PagingMode
  /// The mode's level table and masks.
  public let layout: PagingLayout
  let walker: PageWalker
  let cache: TranslationCache

  /// An address space over `memory` with the tables at `dtb` (CR3 value; PCID and flag bits ignored).
  /// `cacheCapacity` bounds the translation cache (in 4 KiB pages).
  public init(memory: any PhysicalMemory, dtb: UInt64, mode: PagingMode, cacheCapacity: Int = 8192) {
    self.memory = memory
    self.dtb = dtb
    self.mode = mode
    let layout = PagingLayout.of(mode)
    self.layout = layout
    self.walker = PageWalker(memory: memory, layout: layout, root: dtb & layout.rootMask)
    self.cache = TranslationCache(capacity: cacheCapacity)
  }

  /// The address space the image file itself states (crash-dump header, ELF CPU note), if it does.
  public convenience init?(statedBy memory: any PhysicalMemory, cacheCapacity: Int = 8192) {
    guard let mode = memory.statedPagingMode, let dtb = memory.statedDirectoryTableBase else { return nil }
    self.init(memory: memory, dtb: dtb, mode: mode, cacheCapacity: cacheCapacity)
  }

  /// Bytes per pointer: 8 on x64, 4 on x86.
  public var pointerSize: Int { mode.pointerSize }
  /// Physical address of the root table.
  public var rootTable: UInt64 { walker.root }

  /// Translates `va`, from the cache when it can.
  public func translate(_ va: UInt64) throws(TranslationError) -> Translation {
    guard layout.isCanonical(va) else { throw .nonCanonical(va: va) }
    let slot = try cachedSlot(va)
    return Translation(
      virtual: va, physical: slot.frame | (va & 0xfff), pageSize: slot.pageSize,
      writable: slot.flags & Leaf.writableFlag != 0, user: slot.flags & Leaf.userFlag != 0,
      executable: slot.flags & Leaf.executableFlag != 0, inTransition: slot.flags & Leaf.transitionFlag != 0)
  }

  /// Translates `va` without the cache (every level read again).
  public func translateUncached(_ va: UInt64) throws(TranslationError) -> Translation {
    guard layout.isCanonical(va) else { throw .nonCanonical(va: va) }
    let leaf = try walker.walk(va)
    return Translation(
      virtual: va, physical: leaf.base | (va & (leaf.size &- 1)), pageSize: leaf.size,  // size ≥ 4096
      writable: leaf.flags & Leaf.writableFlag != 0, user: leaf.flags & Leaf.userFlag != 0,
      executable: leaf.flags & Leaf.executableFlag != 0, inTransition: leaf.flags & Leaf.transitionFlag != 0)
  }

  /// The cache slot of `va`'s 4 KiB page, walking and filling the slot on a miss.
  @inline(__always)
  func cachedSlot(_ va: UInt64) throws(TranslationError) -> TranslationCache.Slot {
    let vpn = va >> 12
    if let hit = cache.lookup(vpn) { return hit }
    let leaf = try walker.walk(va)
    // base is aligned to size and the offset is below size, so OR-ing them is the sum.
    let frame = leaf.base | (va & (leaf.size &- 1) & ~0xfff)
    let slot = TranslationCache.Slot(tag: vpn, frame: frame, pageSize: leaf.size, flags: leaf.flags)
    cache.store(slot)
    return slot
  }

  /// Physical address of `va` (the reads' hot path).
  @inline(__always)
  func physicalAddress(_ va: UInt64) throws(TranslationError) -> UInt64 {
    guard layout.isCanonical(va) else { throw .nonCanonical(va: va) }
    return try cachedSlot(va).frame | (va & 0xfff)
  }

  /// Whether `va` translates (present, or a Windows transition page).
  public func isMapped(_ va: UInt64) -> Bool {
    do {
      _ = try physicalAddress(va)
      return true
    } catch { return false }
  }

  /// Largest single virtual read (256 MiB): a bound against counts taken from hostile data, since
  /// crafted tables can map one physical page at every virtual page.
  public static let maxReadCount = 1 << 28

  /// Exactly `count` bytes at `va`, across page boundaries; an empty array when `count` ≤ 0.
  /// Counts above `maxReadCount` fail with `.physical(va, .unsupported(…))`.
  public func read(_ va: UInt64, count: Int) throws(TranslationError) -> [UInt8] {
    guard count > 0 else { return [] }
    guard count <= Self.maxReadCount else {
      throw .physical(
        va: va,
        .unsupported(
          path: memory.path, message: "virtual read of \(count) bytes exceeds the limit of \(Self.maxReadCount)"))
    }
    var out: [UInt8] = []
    out.reserveCapacity(min(count, 1 << 20))
    var current = va
    var remaining = count
    while remaining > 0 {  // bounded: each pass consumes ≥ 1 byte
      let pa = try physicalAddress(current)
      let n = min(remaining, 0x1000 &- Int(current & 0xfff))  // 1...4096
      do { out += try memory.read(at: pa, count: n) } catch { throw .physical(va: current, error) }
      remaining &-= n  // n ≤ remaining
      let (next, wrapped) = current.addingReportingOverflow(UInt64(n))
      if remaining > 0, wrapped { throw .nonCanonical(va: next) }
      current = next
    }
    return out
  }

  /// A little-endian integer of `size` bytes at `va`, by the slow path (page-crossing or small reads).
  private func readLittleEndian(_ va: UInt64, size: Int) throws(TranslationError) -> UInt64 {
    let bytes = try read(va, count: size)
    var value: UInt64 = 0
    for (i, b) in bytes.enumerated() { value |= UInt64(b) << UInt64(i &* 8) }  // i < 8
    return value
  }

  /// The byte at `va`.
  public func readUInt8(_ va: UInt64) throws(TranslationError) -> UInt8 {
    UInt8(truncatingIfNeeded: try readLittleEndian(va, size: 1))
  }

  /// A little-endian 16-bit value at `va`.
  public func readUInt16(_ va: UInt64) throws(TranslationError) -> UInt16 {
    UInt16(truncatingIfNeeded: try readLittleEndian(va, size: 2))
  }

  /// A little-endian 32-bit value at `va`.
  public func readUInt32(_ va: UInt64) throws(TranslationError) -> UInt32 {
    guard va & 0xfff <= 0xffc else { return UInt32(truncatingIfNeeded: try readLittleEndian(va, size: 4)) }
    let pa = try physicalAddress(va)
    do { return try memory.readUInt32(at: pa) } catch { throw .physical(va: va, error) }
  }

  /// A little-endian 64-bit value at `va`.
  public func readUInt64(_ va: UInt64) throws(TranslationError) -> UInt64 {
    guard va & 0xfff <= 0xff8 else { return try readLittleEndian(va, size: 8) }
    let pa = try physicalAddress(va)
    do { return try memory.readUInt64(at: pa) } catch { throw .physical(va: va, error) }
  }

  /// A pointer at `va`: 8 bytes on x64, 4 on x86 (zero-extended).
  public func readPointer(_ va: UInt64) throws(TranslationError) -> UInt64 {
    pointerSize == 8 ? try readUInt64(va) : UInt64(try readUInt32(va))
  }
}
