// A bounded, thread-safe cache of 4 KiB-page translations: direct-mapped, one slot per virtual page
// number modulo the capacity. On Linux a lookup takes no lock: each slot is a sequence lock (a version
// word, odd while a writer is inside, read before and after the slot), so concurrent readers never
// serialise; writers are serialised by a mutex. Elsewhere (macOS 14, where Synchronization.Atomic is
// unavailable) every access takes the mutex.

#if canImport(Glibc)
  import Synchronization
#endif

/// Caches walk results per 4 KiB virtual page (a large page fills one slot per 4 KiB page touched).
final class TranslationCache: @unchecked Sendable {
  // @unchecked: slot words are atomics (Linux) or only touched under `lock` (elsewhere).
  struct Slot {
    /// Virtual page number (va >> 12), or `UInt64.max` when empty (no page number is that large).
    var tag: UInt64 = .max
    /// Physical address of the 4 KiB page.
    var frame: UInt64 = 0
    /// Size of the leaf page the 4 KiB page belongs to.
    var pageSize: UInt64 = 0
    /// `Leaf` flags.
    var flags: UInt8 = 0
  }

  /// Number of slots (a power of two).
  let capacity: Int
  private let mask: UInt64
  private let lock = Lock()

  /// A cache of `capacity` slots, rounded up to a power of two between 16 and 2^20.
  init(capacity: Int) {
    var c = 16
    while c < min(max(capacity, 16), 1 << 20) { c <<= 1 }
    self.capacity = c
    self.mask = UInt64(c - 1)
    #if canImport(Glibc)
      words = UnsafeMutablePointer<Atomic<UInt64>>.allocate(capacity: c &* 4)  // c ≤ 2^20
      for i in 0..<(c &* 4) { (words + i).initialize(to: Atomic(i % 4 == 1 ? UInt64.max : 0)) }
    #else
      slots = UnsafeMutablePointer<Slot>.allocate(capacity: c)
      slots.initialize(repeating: Slot(), count: c)
    #endif
  }

  #if canImport(Glibc)
    /// Four words per slot: version (odd while written), tag, frame, pageSize << 8 | flags.
    private let words: UnsafeMutablePointer<Atomic<UInt64>>

    deinit {
      words.deinitialize(count: capacity &* 4)
      words.deallocate()
    }

    /// The cached slot for virtual page number `vpn`, if present.
    @inline(__always)
    func lookup(_ vpn: UInt64) -> Slot? {
      let base = Int(truncatingIfNeeded: vpn & mask) &* 4  // < 4 * capacity
      let v1 = words[base].load(ordering: .acquiring)
      guard v1 & 1 == 0 else { return nil }
      let tag = words[base &+ 1].load(ordering: .relaxed)
      let frame = words[base &+ 2].load(ordering: .relaxed)
      let meta = words[base &+ 3].load(ordering: .relaxed)
      atomicMemoryFence(ordering: .acquiring)
      guard words[base].load(ordering: .relaxed) == v1, tag == vpn else { return nil }
      return Slot(tag: tag, frame: frame, pageSize: meta >> 8, flags: UInt8(truncatingIfNeeded: meta))
    }

    /// Stores a translation, replacing whatever held the slot.
    @inline(__always)
    func store(_ slot: Slot) {
      let base = Int(truncatingIfNeeded: slot.tag & mask) &* 4  // < 4 * capacity
      lock.withLock {
        let v = words[base].load(ordering: .relaxed)
        words[base].store(v &+ 1, ordering: .relaxed)  // odd: readers retry; wrapping is harmless
        atomicMemoryFence(ordering: .releasing)
        words[base &+ 1].store(slot.tag, ordering: .relaxed)
        words[base &+ 2].store(slot.frame, ordering: .relaxed)
        words[base &+ 3].store(slot.pageSize << 8 | UInt64(slot.flags), ordering: .relaxed)  // pageSize ≤ 2^30
        words[base].store(v &+ 2, ordering: .releasing)
      }
    }
  #else
    private let slots: UnsafeMutablePointer<Slot>

    deinit {
      slots.deinitialize(count: capacity)
      slots.deallocate()
    }

    /// The cached slot for virtual page number `vpn`, if present.
    @inline(__always)
    func lookup(_ vpn: UInt64) -> Slot? {
      let i = Int(truncatingIfNeeded: vpn & mask)  // i < capacity
      return lock.withLock {
        let s = slots[i]
        return s.tag == vpn ? s : nil
      }
    }

    /// Stores a translation, replacing whatever held the slot.
    @inline(__always)
    func store(_ slot: Slot) {
      let i = Int(truncatingIfNeeded: slot.tag & mask)  // i < capacity
      lock.withLock { slots[i] = slot }
    }
  #endif
}
