// `callscope callbacks IMAGE`: every kernel callback family, with owners (the main job).

import Analysis
import ArgumentParser
import Callbacks
import Reports
import WindowsKernel

struct CallbacksCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "callbacks",
    abstract:
      "List every kernel callback (notify routines, registry, object, bugcheck, I/O, power, PnP, …) with owners.")

  @OptionGroup var imageOptions: ImageOptions
  @OptionGroup var symbolOptions: SymbolOptions
  @OptionGroup var outputOptions: OutputOptions

  @Option(help: "Comma-separated family ids to read (default: all). `--family list` prints them.")
  var family: String?

  @Flag(help: "Also carve callback blocks from pool (one pass over memory) and report orphaned ones.")
  var carve = false

  @Flag(name: .customLong("fail-on-findings"), help: "Exit with status 1 when a row is flagged.")
  var failOnFindings = false

  func validate() throws {
    if let family, family != "list" {
      let unknown = Set(family.split(separator: ",").map(String.init)).subtracting(CallbackScanner.familyIDs)
      guard unknown.isEmpty else {
        throw ValidationError(
          "unknown famil\(unknown.count == 1 ? "y" : "ies"): \(unknown.sorted().joined(separator: ", "))")
      }
    }
  }

  func run() throws {
    if family == "list" {
      Terminal.standardOutput.write(CallbackScanner.familyIDs.joined(separator: "\n") + "\n")
      return
    }
    let session = try KernelSession(image: imageOptions, symbols: symbolOptions)
    let (modules, _) = (try? ModuleList.read(session.kernel)) ?? ([], [])
    var hidden: [LoadedModule] = []
    if let manager = try? ObjectManager(kernel: session.kernel) {
      hidden = DriverObjectModules.modules(DriverObjectModules.read(manager).drivers, excluding: modules)
    }
    let build = Int(session.context.build?.split(separator: ".").dropFirst(2).first ?? "") ?? 0
    let context = CallbackContext(kernel: session.kernel, build: build)
    let selection = family.map { Set($0.split(separator: ",").map(String.init)) }
    var results = CallbackScanner.scan(context, selection: selection)
    var carvedModules: [LoadedModule] = []
    if carve {
      let tags = Set(CallbackCarver.tags.keys).union([ModuleCarver.tag])
      let hits = PoolScanner.scan(
        session.memory, tags: tags, pointerSize: session.kernel.pointerSize, progress: Progress.bar(label: "carving"))
      // Blocks are matched against every family's structures, whatever --family selected.
      let everything = selection == nil ? results : CallbackScanner.scan(context)
      let outcome = CallbackCarver.carve(context, hits: hits, results: everything)
      let orphaned = outcome.orphaned.filter { selection?.contains($0.family) ?? true || $0.family == "notify-block" }
      var carved = FamilyResult(family: "carved", entries: orphaned)
      carved.warnings.append(
        "\(outcome.scanned) callback blocks carved: \(outcome.linkedCount) linked, \(outcome.orphaned.count) orphaned")
      results.append(carved)
      carvedModules = ModuleCarver.carve(session.kernel, hits: hits, excluding: Set(modules.map(\.base)))
    }
    let verdicts = CallbackVerdicts(
      results: results, kernel: session.kernel, modules: modules, hidden: hidden + carvedModules,
      symbolizers: OwnerSymbols.symbolizers(
        for: results.flatMap(\.entries).map(\.routine), modules: modules, session: session, options: symbolOptions))
    let report = CallbacksReport(context: session.context, results: results, verdicts: verdicts)
    // HTML is its own page (HTMLReport); the other formats come from the report itself.
    try outputOptions.emit(outputOptions.format == .html ? report.html : report.rendered(outputOptions.format))
    if failOnFindings, report.hasFindings { throw FindingsExit() }
  }
}
