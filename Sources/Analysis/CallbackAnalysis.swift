// The callbacks job over one kernel, in one place for every caller (`callscope callbacks`,
// `callscope diff`, tests): modules from the loader list and driver objects, every selected family,
// optional carving of pool blocks and loader entries, then owners and verdicts.

import Callbacks
import MemoryImage
import Symbols
import WindowsKernel

/// Families read, carved blocks matched, owners resolved and rules applied.
public struct CallbackAnalysis: Sendable {
  /// Family results in report order; with carving, a final `carved` result holds orphaned blocks.
  public let results: [FamilyResult]
  /// PsLoadedModuleList.
  public let modules: [LoadedModule]
  /// Images the list lacks: driver objects, and carved loader entries when carving.
  public let hidden: [LoadedModule]
  /// The carving outcome, when carving was asked for.
  public let carved: CallbackCarver.Outcome?
  public let verdicts: CallbackVerdicts
  /// Per family listed by deviations only (EntryListing.deviations), how many unflagged entries
  /// were left out of `results` and `verdicts`.
  public let asExpected: [String: Int]
  /// What could not be read around the families: PsLoadedModuleList (an error there leaves owners to
  /// the driver objects), the object manager, the members of carved blocks.
  public let warnings: [String]

  /// Runs the job. `symbolizers` names the modules that own routines (given the routines and the
  /// listed modules); `moduleProfile` finds a module's own symbol file (the minifilter family reads
  /// fltmgr's); the carving pass runs `jobs` parallel jobs and reports to `progress`.
  /// Families that list deviations only keep every entry when `selection` names them or
  /// `everyEntry` is set.
  public init(
    kernel: Kernel, build: Int, selection: Set<String>? = nil, everyEntry: Bool = false, carve: Bool = false,
    jobs: Int = PoolScanner.defaultJobs, progress: (@Sendable (UInt64, UInt64) -> Void)? = nil,
    symbolizers: ([UInt64], [LoadedModule]) -> [String: ModuleSymbolizer] = { _, _ in [:] },
    moduleProfile: @escaping @Sendable (LoadedModule) -> (any KernelProfile)? = { _ in nil }
  ) {
    var warnings: [String] = []
    let modules: [LoadedModule]
    do {
      let list = try ModuleList.read(kernel)
      modules = list.modules
      warnings += list.warnings.map { "PsLoadedModuleList: \($0)" }
    } catch {
      modules = []
      warnings.append("PsLoadedModuleList: \(error); routines are owned by driver objects' images only")
    }
    var hidden: [LoadedModule] = []
    do {
      let manager = try ObjectManager(kernel: kernel)
      // Driver-object naming notes (a driver with no loader entry, like RAW) stay with `modules`.
      hidden = DriverObjectModules.modules(DriverObjectModules.read(manager).drivers, excluding: modules)
    } catch {
      warnings.append("object manager: \(error); drivers unlinked from PsLoadedModuleList are not listed")
    }
    let context = CallbackContext(kernel: kernel, build: build, moduleProfile: moduleProfile)
    var results = CallbackScanner.scan(context, selection: selection)
    var outcome: CallbackCarver.Outcome?
    if carve {
      let tags = Set(CallbackCarver.tags.keys).union([ModuleCarver.tag])
      let hits = PoolScanner.scan(
        kernel.space.memory, tags: tags, pointerSize: kernel.pointerSize, jobs: jobs, progress: progress)
      // Blocks are matched against every family's structures, whatever the selection.
      let everything = selection == nil ? results : CallbackScanner.scan(context)
      let carved = CallbackCarver.carve(context, hits: hits, results: everything)
      outcome = carved
      warnings += carved.warnings
      let orphaned = carved.orphaned.filter { selection?.contains($0.family) ?? true || $0.family == "notify-block" }
      results.append(FamilyResult(family: "carved", entries: orphaned))
      hidden += ModuleCarver.carve(kernel, hits: hits, excluding: Set(modules.map(\.base)))
    }
    var verdicts = CallbackVerdicts(
      results: results, kernel: kernel, modules: modules, hidden: hidden,
      symbolizers: symbolizers(results.flatMap(\.entries).map(\.routine), modules))
    let quiet =
      everyEntry
      ? []
      : Set(
        FamilyDescriptor.all.filter { $0.listing == .deviations && !(selection?.contains($0.id) ?? false) }.map(\.id))
    var asExpected: [String: Int] = [:]
    if !quiet.isEmpty {
      // An unflagged row of a quiet family leaves both the rows and its family's entries.
      var dropped: [String: Set<CallbackEntry>] = [:]
      verdicts.rows.removeAll { row in
        guard quiet.contains(row.entry.family), row.flags.isEmpty else { return false }
        dropped[row.entry.family, default: []].insert(row.entry)
        return true
      }
      for index in results.indices {
        guard let gone = dropped[results[index].family] else { continue }
        let before = results[index].entries.count
        results[index].entries.removeAll { gone.contains($0) }
        asExpected[results[index].family] = before - results[index].entries.count
      }
    }
    warnings += verdicts.warnings
    self.results = results
    self.modules = modules
    self.hidden = hidden
    self.carved = outcome
    self.warnings = warnings
    self.asExpected = asExpected
    self.verdicts = verdicts
  }
}
