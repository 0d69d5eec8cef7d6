// LIST_ENTRY walking that survives one broken link: when the forward walk does not come back to
// the head (a loop, a dangling Flink), or comes back early (a Flink pointed at the head while the
// head's Blink still leads to other entries), the list is walked backwards through Blink as well and
// the two halves are merged, so every entry still reachable from either side is reported.

import AddressSpace
import BinaryReading

/// Entries of a doubly linked list, with a warning when a link was broken.
public struct RecoveredList: Sendable {
  /// Addresses of the LIST_ENTRY fields of the entries, in forward order as far as known.
  public var entries: [UInt64]
  /// Set when the list was broken and entries were recovered walking backwards.
  public var warning: String?
}

/// Walks `LIST_ENTRY` lists forward, then backward when forward fails.
public enum RobustListWalk {
  /// All entries reachable from `head` in either direction (bounded, cycle-safe).
  public static func entries(space: VirtualAddressSpace, head: UInt64, bound: Int = 100_000, what: String)
    -> RecoveredList
  {
    let forward = space.listEntries(head: head, bound: bound, forward: true)
    var problem: String?
    if case .returnedToHead = forward.stop {
      // A complete forward walk must end where the head's Blink points; if not (e.g. a Flink
      // pointing back at the head early), entries hide behind the break.
      guard let blink = try? space.readPointer(head &+ UInt64(space.pointerSize)),
        blink != (forward.entries.last ?? head)
      else { return RecoveredList(entries: forward.entries, warning: nil) }
      problem = "the forward walk ends after \(forward.entries.count), but the head's Blink is \(Hex.format(blink))"
    }
    let backward = space.listEntries(head: head, bound: bound, forward: false)
    let forwardEntries = readable(forward, pointerSize: space.pointerSize)
    var seen = Set(forwardEntries)
    var tail: [UInt64] = []
    for entry in readable(backward, pointerSize: space.pointerSize) where !seen.contains(entry) {
      seen.insert(entry)
      tail.append(entry)
    }
    let warning =
      "\(what) list at \(Hex.format(head)) is broken (\(problem ?? describe(forward.stop))); "
      + "recovered \(tail.count) more entr\(tail.count == 1 ? "y" : "ies") walking backwards"
    return RecoveredList(entries: forwardEntries + tail.reversed(), warning: warning)
  }

  /// The walk's entries without a final one whose own link could not be read (a dangling pointer
  /// leads there: it is not an entry).
  /// (A forward walk fails reading the Flink at the entry; a backward one the Blink one pointer in.)
  private static func readable(_ walk: ListWalk, pointerSize: Int) -> [UInt64] {
    if case .readFailed(let at, _) = walk.stop, let last = walk.entries.last,
      at == last || at == last &+ UInt64(pointerSize)
    {
      return Array(walk.entries.dropLast())
    }
    return walk.entries
  }

  static func describe(_ stop: ListWalkStop) -> String {
    switch stop {
    case .returnedToHead: return "complete"
    case .cycle(let at): return "loops back to \(Hex.format(at))"
    case .bound(let n): return "more than \(n) entries"
    case .readFailed(let at, let error): return "link at \(Hex.format(at)) unreadable: \(error)"
    }
  }
}
