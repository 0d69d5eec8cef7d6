// The lego-notify family (PsSetLegoNotifyRoutine): one routine the kernel calls when a thread is
// deleted, for the thread's "Lego" data (KTHREAD.LegoData). Undocumented and rarely set; a routine
// there runs on every thread exit.

extension FamilyDescriptor {
  /// PspLegoNotifyRoutine.
  public static let legoNotify = FamilyDescriptor(
    id: "lego-notify", title: "Lego notify routine (called on every thread deletion)",
    registration: "PsSetLegoNotifyRoutine",
    heads: [FamilyHead("PspLegoNotifyRoutine", .code(exports: ["PsSetLegoNotifyRoutine"], shape: .pointerOrNull))],
    symbols: ["PsSetLegoNotifyRoutine"],
    reader: SingleRoutineFamily(id: "lego-notify", symbol: "PspLegoNotifyRoutine"))
}
