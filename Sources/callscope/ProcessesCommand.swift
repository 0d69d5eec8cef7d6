// `callscope processes IMAGE`: the active process list.

import ArgumentParser
import Reports
import WindowsKernel

struct ProcessesCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "processes", abstract: "List processes (PsActiveProcessHead; a broken link is walked around).")

  @OptionGroup var imageOptions: ImageOptions
  @OptionGroup var symbolOptions: SymbolOptions
  @OptionGroup var outputOptions: OutputOptions

  func validate() throws {
    guard outputOptions.format != .html else { throw ValidationError("processes offers table, json, jsonl or csv") }
  }

  func run() throws {
    let session = try KernelSession(image: imageOptions, symbols: symbolOptions)
    let (processes, warnings) = try ProcessList.read(session.kernel)
    let rows: [[Cell]] = processes.map {
      [
        .int(Int64(clamping: $0.pid)), .int(Int64(clamping: $0.ppid)), .string($0.name), .address($0.eprocess),
        .address($0.dtb), $0.peb == 0 ? Cell(.null, text: "-") : .address($0.peb),
      ]
    }
    let report = RowReport(
      context: session.context, rowsKey: "processes", columns: ["pid", "ppid", "name", "eprocess", "dtb", "peb"],
      rows: rows, warnings: warnings)
    try outputOptions.emit(report.rendered(outputOptions.format))
  }
}
