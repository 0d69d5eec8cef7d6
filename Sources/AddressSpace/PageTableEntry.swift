// Decoding of one page-table entry: hardware bits (Intel SDM Vol. 3A tables 4-4..4-20) and, for
// not-present entries, Windows software PTEs.
//
// Windows software PTE layout (x64 and PAE; 32-bit paging has the same low 12 bits and PageFileHigh
// in bits 12..31), from the public ntkrnlmp 10.0.19041 symbols (_MMPTE_SOFTWARE, _MMPTE_TRANSITION,
// _MMPTE_PROTOTYPE in the Volatility 3 ISF) and Windows Internals 7th ed. ch. 5 "Invalid PTEs":
//   bit 0 Valid, bits 5..9 Protection, bit 10 Prototype, bit 11 Transition,
//   transition: PageFrameNumber bits 12..47; software: PageFileLow bits 12..15, PageFileHigh bits 32..63.

/// The decoded meaning of one entry.
enum EntryKind: Equatable {
  /// Present: a table pointer or a leaf, decided by the level and the PS bit.
  case present
  /// Not present, but a transition PTE whose frame still holds the data.
  case transition(frame: UInt64)
  /// Not present and paged out in another way.
  case pagedOut(PagedOutKind)
  /// Zero, or not a plausible software PTE.
  case notMapped
}

/// Entry bit positions (Intel SDM Vol. 3A §4.5, table 4-15 and following).
enum EntryBits {
  static let present: UInt64 = 1 << 0
  static let writable: UInt64 = 1 << 1
  static let user: UInt64 = 1 << 2
  static let pageSize: UInt64 = 1 << 7
  static let prototype: UInt64 = 1 << 10
  static let transition: UInt64 = 1 << 11
  static let noExecute: UInt64 = 1 << 63
  static let protectionMask: UInt64 = 0x3e0  // bits 5..9
}

extension PagingLayout {
  /// Classifies `entry` (already widened to 64 bits).
  @inline(__always)
  func classify(_ entry: UInt64) -> EntryKind {
    if entry & EntryBits.present != 0 { return .present }
    if entry == 0 { return .notMapped }
    if entry & EntryBits.prototype != 0 { return .pagedOut(.prototype) }
    if entry & EntryBits.transition != 0 { return .transition(frame: entry & transitionFrameMask) }
    // A software PTE always carries a protection; without one the entry is not a Windows PTE.
    guard entry & EntryBits.protectionMask != 0 else { return .notMapped }
    return entry >> UInt64(pageFileHighShift) == 0 ? .pagedOut(.demandZero) : .pagedOut(.pagefile)
  }

  /// Physical base of the page a leaf entry maps at `level` (size `1 << level.shift`).
  @inline(__always)
  func leafBase(_ entry: UInt64, level: PagingLevel) -> UInt64 {
    let size = level.entrySpan
    if entrySize == 4, size == 1 << 22 {
      // 4 MiB PSE page (SDM table 4-4): bits 31..22 are address bits 31..22, bits 20..13 (PSE-36) are 39..32.
      return (entry & 0xffc0_0000) | (((entry >> 13) & 0xff) << 32)
    }
    return entry & frameMask & ~(size &- 1)  // size ≥ 4096, so size - 1 cannot wrap
  }
}
