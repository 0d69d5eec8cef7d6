// Walks of null-terminated singly linked chains (a Next pointer at a fixed offset of each node, as in
// SINGLE_LIST_ENTRY-based lists and object-directory hash chains), bounded and cycle-safe.

import BinaryReading

/// Why a chain walk stopped.
public enum ChainWalkStop: Sendable, Equatable, CustomStringConvertible {
  /// A null link ended the chain: every node was read.
  case nullTerminated
  /// A link led to a node already visited.
  case cycle(at: UInt64)
  /// More than the bound of nodes.
  case bound(Int)
  /// The link at `at` (a node's Next field, or the head) could not be read.
  case readFailed(at: UInt64, TranslationError)

  public var description: String {
    switch self {
    case .nullTerminated: return "complete"
    case .cycle(let at): return "loops at \(Hex.format(at))"
    case .bound(let n): return "longer than \(n)"
    case .readFailed(let at, let error): return "link at \(Hex.format(at)) unreadable: \(error)"
    }
  }
}

/// The nodes of a chain, in link order, and why the walk stopped.
public struct ChainWalk: Sendable {
  public let nodes: [UInt64]
  public let stop: ChainWalkStop

  public init(nodes: [UInt64], stop: ChainWalkStop) {
    self.nodes = nodes
    self.stop = stop
  }

  /// Whether the chain ended with a null link.
  public var isComplete: Bool { stop == .nullTerminated }
}

extension VirtualAddressSpace {
  /// The chain whose first node is `first` (0: empty), each node's Next pointer `nextOffset` bytes in.
  public func chain(first: UInt64, nextOffset: UInt64, bound: Int = 10_000) -> ChainWalk {
    var nodes: [UInt64] = []
    var seen: Set<UInt64> = []
    var node = first
    while node != 0 {  // bounded: every pass adds a new node, and nodes ≤ bound
      guard seen.insert(node).inserted else { return ChainWalk(nodes: nodes, stop: .cycle(at: node)) }
      guard nodes.count < bound else { return ChainWalk(nodes: nodes, stop: .bound(bound)) }
      nodes.append(node)
      let (link, overflow) = node.addingReportingOverflow(nextOffset)
      if overflow { return ChainWalk(nodes: nodes, stop: .readFailed(at: node, .nonCanonical(va: link))) }
      do { node = try readPointer(link) } catch { return ChainWalk(nodes: nodes, stop: .readFailed(at: link, error)) }
    }
    return ChainWalk(nodes: nodes, stop: .nullTerminated)
  }

  /// The chain whose first node's address is stored at `head`.
  public func chain(head: UInt64, nextOffset: UInt64, bound: Int = 10_000) -> ChainWalk {
    let first: UInt64
    do { first = try readPointer(head) } catch { return ChainWalk(nodes: [], stop: .readFailed(at: head, error)) }
    return chain(first: first, nextOffset: nextOffset, bound: bound)
  }
}
