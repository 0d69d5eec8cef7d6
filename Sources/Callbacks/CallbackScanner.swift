// Runs every family (or a selection) over a kernel and gathers the results.

import WindowsKernel

/// The registry of families and the entry point of the callbacks layer.
public enum CallbackScanner {
  /// Every family reader, in report order.
  public static let families: [any CallbackFamily] =
    NotifyRoutineArrayFamily.all.filter { $0.id != "dbgk-lkmd" } + [
      ListFamily.bugcheck, ListFamily.bugcheckReason, ListFamily.registry,
    ] + ObjectCallbackFamily.all + [
      ShutdownFamily(), ListFamily.fsRegistration, FileSystemQueueFamily(), SinglyLinkedFamily.logonSession,
      SinglyLinkedFamily.logonSessionEx, ListFamily.powerSetting, ListFamily.debugPrint,
    ] + NotifyRoutineArrayFamily.all.filter { $0.id == "dbgk-lkmd" } + [
      SinglyLinkedFamily.nmi, CallbackObjectFamily(), PnPNotifyFamily(), RoutineTableFamily.ci, SinglyLinkedFamily.emp,
      ExHostFamily(), RoutineTableFamily.altSyscall, RoutineTableFamily.pico, ListFamily.siloMonitor,
      ListFamily.powerCoalescing,
    ]

  /// Every family id, in report order.
  public static var familyIDs: [String] { families.flatMap(\.ids) }

  /// Collects the selected families (all when `selection` is nil).
  public static func scan(_ context: CallbackContext, selection: Set<String>? = nil) -> [FamilyResult] {
    var results: [FamilyResult] = []
    for family in families {
      if let selection, selection.isDisjoint(with: family.ids) { continue }
      for result in family.collect(context) where selection?.contains(result.family) ?? true {
        results.append(result)
      }
    }
    return results
  }
}
