// Runs every family (or a selection) over a kernel and gathers the results.

import BinaryReading
import WindowsKernel

/// The registry of families and the entry point of the callbacks layer.
public enum CallbackScanner {
  /// Every family id, in report order.
  public static var familyIDs: [String] { FamilyDescriptor.all.map(\.id) }

  /// Collects the selected families (all when `selection` is nil), in descriptor order. A reader
  /// that several descriptors share runs once.
  public static func scan(_ context: CallbackContext, selection: Set<String>? = nil) -> [FamilyResult] {
    var produced: [String: [FamilyResult]] = [:]
    var results: [FamilyResult] = []
    for descriptor in FamilyDescriptor.all where selection?.contains(descriptor.id) ?? true {
      if produced[descriptor.id] == nil {
        for result in descriptor.reader.collect(context) { produced[result.family, default: []].append(result) }
      }
      for result in produced[descriptor.id] ?? [] { results.append(withoutImpossibleRoutines(result, context)) }
    }
    return results
  }

  /// A routine outside kernel space cannot be a kernel callback (calling it would fault): the
  /// record is smeared or corrupt, so it becomes a warning rather than a row. Entries a family
  /// marks user-mode (a process's own routine) are kept.
  static func withoutImpossibleRoutines(_ result: FamilyResult, _ context: CallbackContext) -> FamilyResult {
    var result = result
    result.entries = result.entries.filter { entry in
      if entry.userMode || context.kernel.isKernelAddress(entry.routine) { return true }
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
