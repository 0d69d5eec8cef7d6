// LIST_ENTRY walking that survives one broken link: when the forward walk does not come back to
// the head (a loop, a dangling Flink), or comes back early (a Flink pointed at the head while the
// head's Blink still leads to other entries), the list is walked backwards through Blink as well and
// the two halves are merged, so every entry still reachable from either side is reported.

import BinaryReading

/// Entries of a doubly linked list, with a warning when a link was broken.
public struct RecoveredList: Sendable {
  /// Addresses of the LIST_ENTRY fields of the entries, in forward order as far as known.
  public var entries: [UInt64]
  /// Set when the list was broken and entries were recovered walking backwards.
  public var warning: String?

  public init(entries: [UInt64], warning: String?) {
    self.entries = entries
    self.warning = warning
  }
}

extension VirtualAddressSpace {
  /// All entries reachable from `head` in either direction (bounded, cycle-safe); `what` names the
  /// list in the warning. `linkWidth` is 4 for LIST_ENTRY32, else (nil) the pointer size.
  public func recoveredList(head: UInt64, bound: Int = 100_000, what: String, linkWidth: Int? = nil) -> RecoveredList {
    let width = linkWidth ?? pointerSize
    let forward = listEntries(head: head, bound: bound, forward: true, linkWidth: width)
    var problem: String?
    if case .returnedToHead = forward.stop {
      // A complete forward walk must end where the head's Blink points; if not (e.g. a Flink
      // pointing back at the head early), entries hide behind the break.
      let blinkAddress = head &+ UInt64(width)  // head is a readable link, so head + width does not wrap
      guard let blink = try? (width == 4 ? UInt64(readUInt32(blinkAddress)) : readPointer(blinkAddress)),
        blink != (forward.entries.last ?? head)
      else { return RecoveredList(entries: forward.entries, warning: nil) }
      problem = "the forward walk ends after \(forward.entries.count), but the head's Blink is \(Hex.format(blink))"
    }
    let backward = listEntries(head: head, bound: bound, forward: false, linkWidth: width)
    let forwardEntries = forward.readableEntries(linkWidth: width)
    var seen = Set(forwardEntries)
    var tail: [UInt64] = []
    for entry in backward.readableEntries(linkWidth: width) where !seen.contains(entry) {
      seen.insert(entry)
      tail.append(entry)
    }
    let warning =
      "\(what) list at \(Hex.format(head)) is broken (\(problem ?? forward.stop.description)); "
      + "recovered \(tail.count) more entr\(tail.count == 1 ? "y" : "ies") walking backwards"
    return RecoveredList(entries: forwardEntries + tail.reversed(), warning: warning)
  }
}
