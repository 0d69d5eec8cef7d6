// What `callscope watch` reads on each tick of a running system: every callback (as the
// `callbacks` job reports it), the loaded modules, the processes and each process's
// KernelCallbackTable. Two snapshots in a row give the tick's events (`WatchEvent.between`).

import Callbacks
import WindowsKernel

/// The state of one tick.
public struct WatchSnapshot: Sendable {
  /// Every callback row, analysed (owners, flags).
  public var callbacks: [CallbackRow]
  /// The same rows as the diff matches them.
  public var diffRows: [CallbackDiffRow]
  /// PsLoadedModuleList.
  public var modules: [LoadedModule]
  /// The process list.
  public var processes: [WindowsKernel.Process]
  /// Each GUI process's KernelCallbackTable, checked.
  public var tables: [ProcessCallbackTable]
  /// Warnings of the walks (a broken list, an unreadable table).
  public var warnings: [String]

  public init(
    callbacks: [CallbackRow], modules: [LoadedModule], processes: [WindowsKernel.Process],
    tables: [ProcessCallbackTable], warnings: [String]
  ) {
    self.callbacks = callbacks
    self.diffRows = callbacks.map(CallbackDiffRow.init(row:))
    self.modules = modules
    self.processes = processes
    self.tables = tables
    self.warnings = warnings
  }

  /// Reads the state of `kernel` (give it a fresh address space per tick: translations are not kept):
  /// every family with owners and verdicts, the modules, the processes and their tables, checked
  /// against `expected` (or, when nil, the table most GUI processes share).
  public init(
    reading kernel: Kernel, build: Int, expected: ExpectedCallbackTable? = nil,
    symbolizers: ([UInt64], [LoadedModule]) -> [String: ModuleSymbolizer] = { _, _ in [:] }
  ) {
    let analysis = CallbackAnalysis(kernel: kernel, build: build, symbolizers: symbolizers)
    var warnings = analysis.results.flatMap { r in r.warnings.map { "\(r.family): \($0)" } }
    var processes: [WindowsKernel.Process] = []
    do {
      let (list, w) = try ProcessList.read(kernel)
      processes = list
      warnings += w
    } catch { warnings.append("processes: \(error)") }
    let gathered = KernelCallbackTableScanner.gather(kernel, processes: processes)
    var table = expected ?? KernelCallbackTableScanner.majority(gathered, kernel: kernel)
    if var named = table {
      // As `callscope kct`: slot names from the bundled tables when no PDB named them.
      warnings += named.applyBundledNames(build: build)
      table = named
    }
    let tables = CallbackTableVerdicts.check(gathered, expected: table, kernel: kernel)
    self.init(
      callbacks: analysis.verdicts.rows, modules: analysis.modules, processes: processes, tables: tables,
      warnings: warnings)
    self.gathered = gathered
    self.expectedTable = table
  }

  /// The processes' tables as read, before any verdict (for finding the expected table once).
  public var gathered: [KernelCallbackTableScanner.Gathered] = []

  /// The table every process's table was checked against (`expected`, else the majority), named.
  /// `watch` keeps the first one with slots: a majority re-read each tick would shrink to nothing
  /// once the shared table itself is rewritten (its slots are read only while they point into
  /// user32), and the rewrite would be lost instead of reported slot by slot.
  public var expectedTable: ExpectedCallbackTable?

  /// An empty system (before the first tick).
  public static let empty = WatchSnapshot(callbacks: [], modules: [], processes: [], tables: [], warnings: [])
}
