// Enumeration of mapped pages by walking only the present entries of the tables, in ascending
// virtual-address order, never probing addresses one by one.

import MemoryImage

extension VirtualAddressSpace {
  /// Calls `body` for every present leaf page that overlaps `range`, in ascending virtual order; large
  /// pages are reported once, at their first address, with their size. Entries that point back to a
  /// table already on the current path (e.g. the Windows self-map entry) are skipped, as are tables
  /// outside the image and not-present (transition, paged-out) entries. `body` returns false to stop.
  public func forEachMappedPage(in range: ClosedRange<UInt64>, _ body: (Translation) throws -> Bool) rethrows {
    var path: [UInt64] = [walker.root]
    let rights = Rights(writable: true, user: true, executable: true)
    _ = try visit(table: walker.root, depth: 0, prefix: 0, rights: rights, range: range, path: &path, body: body)
  }

  /// Rights accumulated along a path.
  private struct Rights {
    var writable: Bool
    var user: Bool
    var executable: Bool
  }

  /// The entries of the table at `address` (`count` entries), or nil when it is not in the image.
  private func tableEntries(at address: UInt64, count: Int) -> [UInt64]? {
    let size = layout.entrySize
    let bytes: [UInt8]
    do { bytes = try memory.read(at: address, count: count &* size) } catch { return nil }  // count ≤ 1024
    guard bytes.count == count &* size else { return nil }
    return bytes.withUnsafeBytes { raw in
      (0..<count).map { i in
        size == 8
          ? UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i &* 8, as: UInt64.self))
          : UInt64(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: i &* 4, as: UInt32.self)))
      }
    }
  }

  /// Visits one table; returns false when `body` asked to stop.
  private func visit(
    table: UInt64, depth: Int, prefix: UInt64, rights: Rights, range: ClosedRange<UInt64>, path: inout [UInt64],
    body: (Translation) throws -> Bool
  ) rethrows -> Bool {
    let levels = layout.levels
    guard depth < levels.count else { return true }
    let level = levels[depth]
    let isLast = depth == levels.count &- 1
    guard let entries = tableEntries(at: table, count: level.entryCount) else { return true }
    for (index, e) in entries.enumerated() where e & EntryBits.present != 0 {
      let raw = prefix | (UInt64(index) << UInt64(level.shift))
      let start = layout.canonicalize(raw)
      // start is aligned to the span and the span divides 2^64, so the end cannot wrap.
      let end = start &+ (level.entrySpan &- 1)
      if end < range.lowerBound { continue }
      if start > range.upperBound { return true }  // entries ascend in virtual address
      var r = rights
      if level.hasAccessBits {
        if e & EntryBits.writable == 0 { r.writable = false }
        if e & EntryBits.user == 0 { r.user = false }
        if layout.entrySize == 8, e & EntryBits.noExecute != 0 { r.executable = false }
      }
      let isLarge = level.largePageAllowed && e & EntryBits.pageSize != 0
      if isLast || isLarge {
        let base = isLarge ? layout.leafBase(e, level: level) : e & layout.frameMask
        let page = Translation(
          virtual: start, physical: base, pageSize: level.entrySpan, writable: r.writable, user: r.user,
          executable: r.executable)
        if try !body(page) { return false }
        continue
      }
      let next = e & layout.frameMask
      if path.contains(next) { continue }  // self-map or loop: path length ≤ 5
      path.append(next)
      let goOn = try visit(
        table: next, depth: depth &+ 1, prefix: raw, rights: r, range: range, path: &path, body: body)
      path.removeLast()
      if !goOn { return false }
    }
    return true
  }
}
