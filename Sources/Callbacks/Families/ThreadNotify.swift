// The thread-notify family (PsSetCreateThreadNotifyRoutine(Ex)): its descriptor.

import BinaryReading
import Symbols
import WindowsKernel

extension FamilyDescriptor {
  /// 64 (8 before Vista) EX_FAST_REF slots referencing EX_CALLBACK_ROUTINE_BLOCKs.
  public static let threadNotify = FamilyDescriptor(
    id: "thread-notify", title: "Thread creation and exit notify routines",
    registration: "PsSetCreateThreadNotifyRoutine(Ex)",
    heads: [
      FamilyHead(
        "PspCreateThreadNotifyRoutine",
        .code(
          exports: [
            "PsSetCreateThreadNotifyRoutine", "PsSetCreateThreadNotifyRoutineEx", "PsRemoveCreateThreadNotifyRoutine",
          ], shape: .fastRefArray(slots: NotifyRoutineArrayFamily.processAndThreadSlots)))
    ],
    symbols: [
      "PspCreateThreadNotifyRoutineCount", "PspCreateThreadNotifyRoutineNonSystemCount",
      "PsSetCreateThreadNotifyRoutine", "PsSetCreateThreadNotifyRoutineEx", "PspSetCreateThreadNotifyRoutine",
    ],
    structs: ["_EX_CALLBACK_ROUTINE_BLOCK"],
    recipes: { _ in FamilyHeadLocators.counters.filter { $0.symbol.hasPrefix("PspCreateThread") } },
    reader: NotifyRoutineArrayFamily(
      id: "thread-notify", symbol: "PspCreateThreadNotifyRoutine", slots: NotifyRoutineArrayFamily.processAndThreadSlots
    ))
}
