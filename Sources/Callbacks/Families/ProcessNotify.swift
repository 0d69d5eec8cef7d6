// The process-notify family (PsSetCreateProcessNotifyRoutine(Ex/Ex2)): its descriptor.

import BinaryReading
import Symbols
import WindowsKernel

extension FamilyDescriptor {
  /// 64 (8 before Vista) EX_FAST_REF slots referencing EX_CALLBACK_ROUTINE_BLOCKs; the block's Context flags tell
  /// legacy, Ex and Ex2 registrations apart. The two counters beside the array are checked against its live slots.
  public static let processNotify = FamilyDescriptor(
    id: "process-notify", title: "Process creation and exit notify routines",
    registration: "PsSetCreateProcessNotifyRoutine(Ex/Ex2)",
    heads: [
      FamilyHead(
        "PspCreateProcessNotifyRoutine",
        .code(
          exports: [
            "PsSetCreateProcessNotifyRoutine", "PsSetCreateProcessNotifyRoutineEx",
            "PsSetCreateProcessNotifyRoutineEx2",
          ], shape: .fastRefArray(slots: NotifyRoutineArrayFamily.processAndThreadSlots)))
    ],
    symbols: [
      "PspCreateProcessNotifyRoutineCount", "PspCreateProcessNotifyRoutineExCount", "PspNotifyEnableMask",
      "PsSetCreateProcessNotifyRoutine", "PsSetCreateProcessNotifyRoutineEx", "PsSetCreateProcessNotifyRoutineEx2",
      "PspSetCreateProcessNotifyRoutine",
    ],
    structs: ["_EX_CALLBACK_ROUTINE_BLOCK"],
    recipes: { _ in FamilyHeadLocators.counters.filter { $0.symbol.hasPrefix("PspCreateProcess") } },
    reader: NotifyRoutineArrayFamily(
      id: "process-notify", symbol: "PspCreateProcessNotifyRoutine",
      slots: NotifyRoutineArrayFamily.processAndThreadSlots))
}
