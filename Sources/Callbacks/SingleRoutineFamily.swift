// Families whose registration is one routine pointer in one kernel variable (a second registration
// fails while it is set): the row is that routine when the variable is not null.

import BinaryReading
import Symbols
import WindowsKernel

/// A kernel variable holding at most one routine.
struct SingleRoutineFamily: CallbackFamily {
  let id: String
  let symbol: String
  var ids: [String] { [id] }

  func collect(_ c: CallbackContext) -> [FamilyResult] {
    let head: (address: UInt64, provenance: Provenance)
    let routine: UInt64
    do throws(WindowsKernelError) {
      head = try c.head(symbol)
      routine = try c.kernel.readPointer(head.address)
    } catch {
      return [FamilyResult(family: id, notLocated: error.description)]
    }
    var result = FamilyResult(family: id)
    if routine != 0 {
      result.entries.append(
        CallbackEntry(
          family: id, head: head.address, headSymbol: symbol, index: 0, routine: routine, provenance: head.provenance))
    }
    return [result]
  }
}
