// Runs every family (or a selection) over a kernel and gathers the results.

import BinaryReading
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
      PowerCoalescingFamily(),
    ]

  /// Every family id, in report order.
  public static var familyIDs: [String] { families.flatMap(\.ids) }

  /// Collects the selected families (all when `selection` is nil).
  public static func scan(_ context: CallbackContext, selection: Set<String>? = nil) -> [FamilyResult] {
    var results: [FamilyResult] = []
    for family in families {
      if let selection, selection.isDisjoint(with: family.ids) { continue }
      for result in family.collect(context) where selection?.contains(result.family) ?? true {
        results.append(withoutImpossibleRoutines(result, context))
      }
    }
    return results
  }

  /// A routine outside kernel space cannot be a kernel callback (calling it would fault): the
  /// record is smeared or corrupt, so it becomes a warning rather than a row.
  static func withoutImpossibleRoutines(_ result: FamilyResult, _ context: CallbackContext) -> FamilyResult {
    var result = result
    result.entries = result.entries.filter { entry in
      if context.kernel.isKernelAddress(entry.routine) { return true }
      let place = entry.index.map { "\(entry.headSymbol)[\($0)]" } ?? entry.headSymbol
      let record = entry.object.map { " in the record at \(Hex.format($0))" } ?? ""
      result.warnings.append(
        "\(entry.family) \(place): routine \(Hex.format(entry.routine))\(record) is not a kernel-mode address "
          + "(smeared or corrupt record); not reported")
      return false
    }
    return result
  }
}
