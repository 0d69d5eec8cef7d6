// `callscope kct IMAGE [--map]`: KernelCallbackTable per process, or the ApiNumber → __fn map.

import AddressSpace
import Analysis
import ArgumentParser
import Callbacks
import PortableExecutable
import Reports
import Symbols
import WindowsKernel

struct KCTCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "kct",
    abstract: "Check each process's PEB.KernelCallbackTable against user32!apfnDispatch (hijack detection).",
    discussion: """
      The expected table comes from user32's PDB found through the symbol path (names: every public at \
      each slot's routine); without it, from the value most GUI processes share, bounded by user32's \
      image, named from the bundled table of the build (labelled bundled-names). With the PDB, each slot \
      where the bundled table disagrees is reported. --map prints the index → routine → name table.
      """)

  @OptionGroup var imageOptions: ImageOptions
  @OptionGroup var symbolOptions: SymbolOptions
  @OptionGroup var outputOptions: OutputOptions

  @Flag(help: "Print the ApiNumber → routine name map instead of the per-process check.")
  var map = false

  @Flag(name: .customLong("fail-on-findings"), help: "Exit with status 1 when a table or slot is flagged.")
  var failOnFindings = false

  func validate() throws {
    guard outputOptions.format != .html else { throw ValidationError("kct offers table, json, jsonl or csv") }
  }

  func run() throws {
    let session = try KernelSession(image: imageOptions, symbols: symbolOptions)
    let kernel = session.kernel
    let (processes, processWarnings) = try ProcessList.read(kernel)
    let gathered = KernelCallbackTableScanner.gather(kernel, processes: processes)
    var warnings = processWarnings
    var expected = KCTExpectation.fromPDB(gathered, kernel: kernel, options: symbolOptions, warnings: &warnings)
    if expected == nil { expected = KernelCallbackTableScanner.majority(gathered, kernel: kernel) }
    if var table = expected {
      // Names without the PDB, or the PDB's names checked against the bundled ones.
      warnings += table.applyBundledNames(build: session.buildNumber)
      expected = table
    }
    let checked = CallbackTableVerdicts.check(gathered, expected: expected, kernel: kernel)
    let report = CallbackTableReport(
      context: session.context, processes: checked, expected: expected, warnings: warnings)
    try outputOptions.emit(map ? report.renderedMap(outputOptions.format) : report.rendered(outputOptions.format))
    if failOnFindings, report.hasFindings { throw FindingsExit() }
  }
}
