// Walks of doubly linked LIST_ENTRY lists ({Flink, Blink}, each a pointer: wdm.h / the public symbols'
// _LIST_ENTRY) that stop on a cycle, a bound or an unreadable link.

/// Why a list walk stopped.
public enum ListWalkStop: Sendable, Equatable {
  /// The links led back to the head: the whole list was read.
  case returnedToHead
  /// A link pointed to an entry already visited (not the head): the list loops.
  case cycle(at: UInt64)
  /// The bound on the number of entries was reached.
  case bound(Int)
  /// The link at `at` could not be read.
  case readFailed(at: UInt64, TranslationError)
}

/// The entries reached from a list head, and why the walk stopped.
public struct ListWalk: Sendable {
  /// Addresses of the LIST_ENTRY fields visited, in link order (the head excluded).
  public let entries: [UInt64]
  /// Why the walk stopped.
  public let stop: ListWalkStop

  public init(entries: [UInt64], stop: ListWalkStop) {
    self.entries = entries
    self.stop = stop
  }

  /// Whether the walk went all the way round to the head.
  public var isComplete: Bool { stop == .returnedToHead }
}

extension VirtualAddressSpace {
  /// Follows Flink (or Blink when `forward` is false) from `head` until the links return to it, loop,
  /// fail to read, or `bound` entries have been collected.
  public func listEntries(head: UInt64, bound: Int = 100_000, forward: Bool = true) -> ListWalk {
    let linkOffset: UInt64 = forward ? 0 : UInt64(pointerSize)
    var seen: Set<UInt64> = [head]
    var entries: [UInt64] = []
    var current = head
    while true {  // bounded: every pass adds a new entry or returns, and entries ≤ bound
      let (linkAddress, overflow) = current.addingReportingOverflow(linkOffset)
      if overflow { return ListWalk(entries: entries, stop: .readFailed(at: current, .nonCanonical(va: linkAddress))) }
      let next: UInt64
      do { next = try readPointer(linkAddress) } catch {
        return ListWalk(entries: entries, stop: .readFailed(at: linkAddress, error))
      }
      if next == head { return ListWalk(entries: entries, stop: .returnedToHead) }
      if seen.contains(next) { return ListWalk(entries: entries, stop: .cycle(at: next)) }
      if entries.count >= bound { return ListWalk(entries: entries, stop: .bound(bound)) }
      entries.append(next)
      seen.insert(next)
      current = next
    }
  }
}
