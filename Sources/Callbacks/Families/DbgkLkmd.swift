// The dbgk-lkmd family (DbgkLkmdRegisterCallback): its descriptor.

import BinaryReading
import Symbols
import WindowsKernel

extension FamilyDescriptor {
  /// 8 EX_FAST_REF slots referencing EX_CALLBACK_ROUTINE_BLOCKs.
  public static let dbgkLkmd = FamilyDescriptor(
    id: "dbgk-lkmd", title: "Live kernel dump callbacks", registration: "DbgkLkmdRegisterCallback",
    heads: [
      FamilyHead(
        "DbgkLmdCallbacks",
        .code(
          exports: ["DbgkLkmdRegisterCallback", "DbgkLkmdUnregisterCallback"], shape: .fastRefArray(slots: { _ in 8 })))
    ],
    symbols: ["DbgkLkmdRegisterCallback"],
    structs: ["_EX_CALLBACK_ROUTINE_BLOCK"],
    reader: NotifyRoutineArrayFamily(id: "dbgk-lkmd", symbol: "DbgkLmdCallbacks") { _ in 8 })
}
