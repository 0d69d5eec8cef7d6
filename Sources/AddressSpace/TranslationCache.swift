// A bounded, thread-safe cache of 4 KiB-page translations: direct-mapped, one slot per virtual page
// number modulo the capacity, so a lookup is one lock, one compare and no allocation.

/// Caches walk results per 4 KiB virtual page (a large page fills one slot per 4 KiB page touched).
final class TranslationCache: @unchecked Sendable {
  // @unchecked: `slots` is only read or written while `lock` is held.
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
  private let slots: UnsafeMutablePointer<Slot>
  private let lock = Lock()

  /// A cache of `capacity` slots, rounded up to a power of two between 16 and 2^20.
  init(capacity: Int) {
    var c = 16
    while c < min(max(capacity, 16), 1 << 20) { c <<= 1 }
    self.capacity = c
    self.mask = UInt64(c - 1)
    slots = UnsafeMutablePointer<Slot>.allocate(capacity: c)
    slots.initialize(repeating: Slot(), count: c)
  }

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
}
