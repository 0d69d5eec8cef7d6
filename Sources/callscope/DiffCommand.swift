// `callscope diff BASELINE CURRENT`: callbacks added, removed and changed between two memory images
// or saved `callscope callbacks --format json` reports (either side may be either kind).

import Analysis
import ArgumentParser
import Callbacks
import Reports
import WindowsKernel

struct DiffCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "diff",
    abstract: "Compare the callbacks of two images or saved JSON reports: added, removed, changed.",
    discussion: """
      Callbacks are matched by (family, module, offset in module), so another load address (KASLR) \
      is no change; then by the registration's slot and naming details within the same module; \
      routines in no module by (family, routine). A saved report is recognised by content (JSON, \
      schema callscope/1).
      """)

  @Argument(help: "Baseline: a memory image or a `callscope callbacks --format json` report.")
  var baseline: String

  @Argument(help: "Current: a memory image or a `callscope callbacks --format json` report.")
  var current: String

  @OptionGroup var symbolOptions: SymbolOptions
  @OptionGroup var outputOptions: OutputOptions

  @Flag(name: .customLong("fail-on-findings"), help: "Exit with status 1 when a callback was added or changed.")
  var failOnFindings = false

  func validate() throws {
    guard outputOptions.format == .table || outputOptions.format == .json else {
      throw ValidationError("diff writes --format table or json")
    }
  }

  func run() throws {
    let report = DiffReport(baseline: try snapshot(baseline), current: try snapshot(current))
    try outputOptions.emit(report.rendered(outputOptions.format))
    if failOnFindings, report.hasFindings { throw FindingsExit() }
  }

  /// The callbacks of `path`: a saved report as is, an image through the `callbacks` pipeline.
  func snapshot(_ path: String) throws -> CallbackSnapshot {
    if try CallbackSnapshot.isReport(path: path) { return try CallbackSnapshot(reportAt: path) }
    let session = try KernelSession(image: try ImageOptions.parse([path]), symbols: symbolOptions)
    let rows = Self.scan(session, symbolOptions: symbolOptions)
    return CallbackSnapshot(
      path: path, source: .image, imagePath: session.context.imagePath, imageFormat: session.context.imageFormat,
      kernelBase: session.context.kernel?.base, build: session.context.build, rows: rows.map(CallbackDiffRow.init(row:))
    )
  }

  /// Every family read and analysed as `callscope callbacks IMAGE` does (without carving).
  static func scan(_ session: KernelSession, symbolOptions: SymbolOptions) -> [CallbackRow] {
    CallbackAnalysis(
      kernel: session.kernel, build: session.buildNumber,
      symbolizers: { OwnerSymbols.symbolizers(for: $0, modules: $1, session: session, options: symbolOptions) },
      moduleProfile: OwnerSymbols.moduleProfile(space: session.kernel.space, options: symbolOptions)
    ).verdicts.rows
  }
}
