// `callscope info IMAGE`: format, arch, paging, DTB, kernel base, PDB id, build, symbol source.

import ArgumentParser
import Reports
import WindowsKernel

struct InfoCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "info", abstract: "Show the image's format, paging mode, DTB, kernel base, PDB and build.")

  @OptionGroup var imageOptions: ImageOptions
  @OptionGroup var outputOptions: OutputOptions

  func validate() throws {
    guard [.table, .json].contains(outputOptions.format) else {
      throw ValidationError("info offers --format table or json")
    }
  }

  func run() throws {
    let (memory, system) = try imageOptions.discover()
    let report = InfoReport(memory: memory, system: system)
    switch outputOptions.format {
    case .json: try outputOptions.emit(report.json.serialized() + "\n")
    default: try outputOptions.emit(report.table)
    }
  }
}
