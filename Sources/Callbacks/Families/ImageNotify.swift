// The image-notify family (PsSetLoadImageNotifyRoutine(Ex)): its descriptor.

import BinaryReading
import Symbols
import WindowsKernel

extension FamilyDescriptor {
  /// EX_FAST_REF slots (8 before Windows 8.1, 64 after) referencing EX_CALLBACK_ROUTINE_BLOCKs.
  public static let imageNotify = FamilyDescriptor(
    id: "image-notify", title: "Image load notify routines", registration: "PsSetLoadImageNotifyRoutine(Ex)",
    heads: [
      FamilyHead(
        "PspLoadImageNotifyRoutine",
        .code(
          exports: ["PsSetLoadImageNotifyRoutine", "PsSetLoadImageNotifyRoutineEx", "PsRemoveLoadImageNotifyRoutine"],
          shape: .fastRefArray(slots: NotifyRoutineArrayFamily.imageSlots)))
    ],
    symbols: [
      "PspLoadImageNotifyRoutineCount", "PsSetLoadImageNotifyRoutine", "PsSetLoadImageNotifyRoutineEx",
      "PsRemoveLoadImageNotifyRoutine",
    ],
    structs: ["_EX_CALLBACK_ROUTINE_BLOCK"],
    recipes: { _ in FamilyHeadLocators.counters.filter { $0.symbol.hasPrefix("PspLoadImage") } },
    reader: NotifyRoutineArrayFamily(
      id: "image-notify", symbol: "PspLoadImageNotifyRoutine", slots: NotifyRoutineArrayFamily.imageSlots))
}
