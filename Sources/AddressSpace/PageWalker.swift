// The page walk: one loop over the mode's level table (Intel SDM Vol. 3A §4.3-§4.5), shared by every
// paging mode, with Windows transition PTEs resolved to their frame as Volatility 3's Windows layers do.

import MemoryImage

/// A leaf found by a walk: the mapped page and the rights accumulated over the levels.
struct Leaf: Sendable {
  /// Physical address of the page's first byte.
  var base: UInt64
  /// Page size in bytes.
  var size: UInt64
  /// `Leaf.writableFlag` | `userFlag` | `executableFlag` | `transitionFlag`.
  var flags: UInt8

  static let writableFlag: UInt8 = 1
  static let userFlag: UInt8 = 2
  static let executableFlag: UInt8 = 4
  static let transitionFlag: UInt8 = 8
}

/// Walks the tables rooted at one directory table base.
struct PageWalker: Sendable {
  let memory: any PhysicalMemory
  let layout: PagingLayout
  /// Address of the root table (DTB masked by the mode's root mask).
  let root: UInt64

  /// Reads the entry at `address` (4 or 8 bytes, widened).
  @inline(__always)
  func entry(at address: UInt64, va: UInt64) throws(TranslationError) -> UInt64 {
    do {
      if layout.entrySize == 8 { return try memory.readUInt64(at: address) }
      return UInt64(try memory.readUInt32(at: address))
    } catch { throw .physical(va: va, error) }
  }

  /// Translates `va` (already checked canonical) to its leaf.
  func walk(_ va: UInt64) throws(TranslationError) -> Leaf {
    var table = root
    var writable = true
    var user = true
    var executable = true
    var transition = false
    let levels = layout.levels
    let last = levels.count &- 1  // levels is never empty
    for (depth, level) in levels.enumerated() {
      // table < 2^52 (masked) and index * entrySize < 2^13, so the sum cannot overflow.
      let entryAddress = table &+ UInt64(level.index(of: va) &* layout.entrySize)
      let e = try entry(at: entryAddress, va: va)
      var isLargePage = level.largePageAllowed && e & EntryBits.pageSize != 0
      var next: UInt64
      switch layout.classify(e) {
      case .present:
        next = isLargePage ? layout.leafBase(e, level: level) : e & layout.frameMask
      case .transition(let frame):
        // Large pages are never paged by Windows: a transition entry above the last level is a table.
        next = frame
        transition = true
        isLargePage = false
      case .pagedOut(let kind):
        throw .pagedOut(va: va, level: level, entry: e, kind: kind)
      case .notMapped:
        throw .notMapped(va: va, level: level, entryAddress: entryAddress, entry: e)
      }
      if level.hasAccessBits {
        if e & EntryBits.writable == 0 { writable = false }
        if e & EntryBits.user == 0 { user = false }
        if layout.entrySize == 8, e & EntryBits.noExecute != 0 { executable = false }
      }
      if depth == last || isLargePage {
        var flags: UInt8 = 0
        if writable { flags |= Leaf.writableFlag }
        if user { flags |= Leaf.userFlag }
        if executable { flags |= Leaf.executableFlag }
        if transition { flags |= Leaf.transitionFlag }
        return Leaf(base: next, size: level.entrySpan, flags: flags)
      }
      table = next
    }
    // Not reached: the last level always returns above.
    throw .loop(va: va)
  }
}
