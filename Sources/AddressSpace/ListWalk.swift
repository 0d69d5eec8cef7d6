// Walks of doubly linked lists ({Flink, Blink}: wdm.h / the public symbols' _LIST_ENTRY, each link a
// pointer; or LIST_ENTRY32 with 4-byte links, as in a WoW64 PEB) that stop on a cycle, a bound or an
// unreadable link.

import BinaryReading

/// Why a list walk stopped.
public enum ListWalkStop: Sendable, Equatable, CustomStringConvertible {
  /// The links led back to the head: the whole list was read.
  case returnedToHead
  /// A link pointed to an entry already visited (not the head): the list loops.
  case cycle(at: UInt64)
  /// The bound on the number of entries was reached.
  case bound(Int)
  /// The link at `at` could not be read.
  case readFailed(at: UInt64, TranslationError)

  public var description: String {
    switch self {
    case .returnedToHead: return "complete"
    case .cycle(let at): return "loops back to \(Hex.format(at))"
    case .bound(let n): return "more than \(n) entries"
    case .readFailed(let at, let error): return "link at \(Hex.format(at)) unreadable: \(error)"
    }
  }
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

  /// The entries without a final one whose own link could not be read (a dangling pointer leads
  /// there: it is not an entry). A forward walk fails reading the Flink at the entry, a backward one
  /// the Blink one link width in.
  public func readableEntries(linkWidth: Int) -> [UInt64] {
    if case .readFailed(let at, _) = stop, let last = entries.last, at == last || at == last &+ UInt64(linkWidth) {
      return Array(entries.dropLast())
    }
    return entries
  }
}

extension VirtualAddressSpace {
  /// Follows Flink (or Blink when `forward` is false) from `head` until the links return to it, loop,
  /// fail to read, or `bound` entries have been collected. `linkWidth` is 4 for LIST_ENTRY32, else
  /// (nil) the pointer size.
  public func listEntries(head: UInt64, bound: Int = 100_000, forward: Bool = true, linkWidth: Int? = nil)
    -> ListWalk
  {
    let width = linkWidth ?? pointerSize
    let linkOffset: UInt64 = forward ? 0 : UInt64(width)
    var seen: Set<UInt64> = [head]
    var entries: [UInt64] = []
    var current = head
    while true {  // bounded: every pass adds a new entry or returns, and entries ≤ bound
      let (linkAddress, overflow) = current.addingReportingOverflow(linkOffset)
      if overflow { return ListWalk(entries: entries, stop: .readFailed(at: current, .nonCanonical(va: linkAddress))) }
      let next: UInt64
      do { next = width == 4 ? UInt64(try readUInt32(linkAddress)) : try readPointer(linkAddress) } catch {
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
