// A list head that is all zeros was never initialised (a kernel that never ran the code that sets
// it up, or a synthetic image): the family is not located, rather than reported as a broken list.

import BinaryReading
import WindowsKernel

/// Runs `inner` only when the heads it starts from were initialised (a LIST_ENTRY with a non-null Flink).
struct InitialisedListGuard: CallbackFamily {
  let inner: any CallbackFamily
  /// The LIST_ENTRY heads, first present used (their family's order).
  let heads: [String]
  var ids: [String] { inner.ids }

  func collect(_ c: CallbackContext) -> [FamilyResult] {
    let present = heads.compactMap { try? c.head($0) }
    for head in present {
      guard let flink = c.pointer(head.address), flink == 0 else { return inner.collect(c) }
    }
    guard let first = heads.first, !present.isEmpty else { return inner.collect(c) }
    let reason = "\(first) at \(Hex.format(present[0].address)) is null: the list was never initialised"
    return ids.map { FamilyResult(family: $0, notLocated: reason) }
  }
}
