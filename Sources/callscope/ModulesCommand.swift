// `callscope modules IMAGE`: loaded kernel modules (PsLoadedModuleList, plus carved MmLd entries).

import ArgumentParser
import Reports
import WindowsKernel

struct ModulesCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "modules", abstract: "List loaded kernel modules (PsLoadedModuleList; --carve adds unlinked ones).")

  @OptionGroup var imageOptions: ImageOptions
  @OptionGroup var symbolOptions: SymbolOptions
  @OptionGroup var outputOptions: OutputOptions

  @Flag(help: "Also carve MmLd pool blocks for modules unlinked from the list (one pass over memory).")
  var carve = false

  @OptionGroup var jobsOption: JobsOption

  func validate() throws {
    guard outputOptions.format != .html else { throw ValidationError("modules offers table, json, jsonl or csv") }
  }

  func run() throws {
    let session = try KernelSession(image: imageOptions, symbols: symbolOptions)
    var (modules, warnings) = try ModuleList.read(session.kernel)
    if carve {
      let hits = PoolScanner.scan(
        session.memory, tags: [ModuleCarver.tag], pointerSize: session.kernel.pointerSize,
        jobs: jobsOption.count, progress: Progress.bar(label: "carving"))
      modules += ModuleCarver.carve(session.kernel, hits: hits, excluding: Set(modules.map(\.base)))
    }
    let rows: [[Cell]] = modules.map {
      [.string($0.name), .string($0.path), .address($0.base), .address($0.size), .bool($0.origin != .loadedModuleList)]
    }
    let report = RowReport(
      context: session.context, rowsKey: "modules", columns: ["name", "path", "base", "size", "unlinked"], rows: rows,
      warnings: warnings)
    try outputOptions.emit(report.rendered(outputOptions.format))
  }
}
