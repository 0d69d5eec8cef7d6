// `callscope callbacks IMAGE`: every kernel callback family, with owners (the main job).

import Analysis
import ArgumentParser
import Callbacks
import Reports
import Symbols
import WindowsKernel

struct CallbacksCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "callbacks",
    abstract:
      "List every kernel callback (notify routines, registry, object, bugcheck, I/O, power, PnP, …) with owners.")

  @OptionGroup var imageOptions: OptionalImageOptions
  @OptionGroup var symbolOptions: SymbolOptions
  @OptionGroup var outputOptions: OutputOptions

  @Option(
    help:
      "Comma-separated family ids to read (default: all). `--family list` describes every family (no image needed).")
  var family: String?

  @Flag(
    name: .customLong("every-entry"),
    help: "List every entry of the table families (ssdt, irp-dispatch), not only the flagged ones.")
  var everyEntry = false

  @Flag(help: "Also carve callback blocks from pool (one pass over memory) and report orphaned ones.")
  var carve = false

  @OptionGroup var jobsOption: JobsOption

  @Flag(name: .customLong("fail-on-findings"), help: "Exit with status 1 when a row is flagged.")
  var failOnFindings = false

  @Flag(help: "Show how each symbol was located without a symbol file (export → calls → instruction → shape).")
  var explain = false

  func validate() throws {
    if family == "list" {
      guard outputOptions.format != .html else {
        throw ValidationError("--family list offers table, json, jsonl or csv")
      }
      return
    }
    guard imageOptions.image != nil else { throw ValidationError("Missing expected argument '<image>'") }
    if let family {
      let unknown = Set(family.split(separator: ",").map(String.init)).subtracting(CallbackScanner.familyIDs)
      guard unknown.isEmpty else {
        throw ValidationError(
          "unknown famil\(unknown.count == 1 ? "y" : "ies"): \(unknown.sorted().joined(separator: ", "))")
      }
    }
  }

  func run() throws {
    if family == "list" {
      let report = FamilyListReport(
        families: CallbackFamilyCatalog.all,
        coverage: try CallbackFamilyCatalog.coverage(in: try BundledProfiles.shipped()))
      try outputOptions.emit(report.rendered(outputOptions.format))
      return
    }
    let session = try KernelSession(image: try imageOptions.required(), symbols: symbolOptions)
    let analysis = CallbackAnalysis(
      kernel: session.kernel, build: session.buildNumber,
      selection: family.map { Set($0.split(separator: ",").map(String.init)) }, everyEntry: everyEntry, carve: carve,
      jobs: jobsOption.count, progress: Progress.bar(label: "carving"),
      symbolizers: { OwnerSymbols.symbolizers(for: $0, modules: $1, session: session, options: symbolOptions) },
      moduleProfile: OwnerSymbols.moduleProfile(space: session.kernel.space, options: symbolOptions))
    var results = analysis.results
    if let outcome = analysis.carved, let last = results.indices.last {
      results[last].warnings.append(
        "\(outcome.scanned) callback blocks carved: \(outcome.linkedCount) linked, \(outcome.orphaned.count) orphaned")
    }
    let verdicts = analysis.verdicts
    var report = CallbacksReport(context: session.context, results: results, verdicts: verdicts)
    report.warnings = analysis.warnings + report.warnings
    report.located = session.located.map { LocatedSymbolsReport($0, base: session.kernel.image.base) }
    report.explain = explain
    report.asExpected = analysis.asExpected
    // HTML is its own page (HTMLReport); the other formats come from the report itself.
    try outputOptions.emit(outputOptions.format == .html ? report.html : report.rendered(outputOptions.format))
    if failOnFindings, report.hasFindings { throw FindingsExit() }
  }
}
