// A list head that is all zeros was never initialised (a kernel that never ran the code that sets
// it up, or a synthetic image): the family is not located, rather than reported as a broken list.

import BinaryReading
import WindowsKernel

/// Runs `inner` only when the heads it starts from were initialised (a LIST_ENTRY with a non-null Flink).
struct InitialisedListGuard: CallbackFamily {
  let inner: any CallbackFamily
  /// The LIST_ENTRY heads; the family is read when any present one was initialised.
  let heads: [String]
  var ids: [String] { inner.ids }

  func collect(_ c: CallbackContext) -> [FamilyResult] {
    let present = heads.compactMap { symbol in (try? c.head(symbol)).map { (symbol, $0) } }
    // Absent heads are the inner family's to report (it names the missing symbol).
    guard let (symbol, head) = present.first else { return inner.collect(c) }
    for (_, other) in present {
      guard let flink = c.pointer(other.address), flink == 0 else { return inner.collect(c) }
    }
    let reason = "\(symbol) at \(Hex.format(head.address)) is null: the list was never initialised"
    return ids.map { FamilyResult(family: $0, notLocated: reason) }
  }
}
