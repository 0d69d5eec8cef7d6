// `callscope objects IMAGE [PATH]`: a directory of the object-manager namespace.

import ArgumentParser
import Reports
import WindowsKernel

struct ObjectsCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "objects", abstract: "List an object-manager directory (default \\), e.g. '\\Callback'.")

  @OptionGroup var imageOptions: ImageOptions
  @OptionGroup var symbolOptions: SymbolOptions
  @OptionGroup var outputOptions: OutputOptions

  @Argument(help: "Directory path, e.g. \\Callback or \\Driver.")
  var path: String = "\\"

  func validate() throws {
    guard outputOptions.format != .html else { throw ValidationError("objects offers table, json, jsonl or csv") }
  }

  func run() throws {
    let session = try KernelSession(image: imageOptions, symbols: symbolOptions)
    let manager = try ObjectManager(kernel: session.kernel)
    let directory = try manager.lookup(path)
    let (objects, warnings) = manager.entries(ofDirectory: directory.address)
    let prefix = path.hasSuffix("\\") ? path : path + "\\"
    let rows: [[Cell]] = objects.sorted { ($0.name ?? "") < ($1.name ?? "") }.map {
      [.string($0.name), .string($0.name.map { prefix + $0 }), .string($0.typeName), .address($0.address)]
    }
    let report = RowReport(
      context: session.context, rowsKey: "objects", columns: ["name", "path", "type", "address"], rows: rows,
      warnings: warnings, extra: [("directory", .string(path))])
    try outputOptions.emit(report.rendered(outputOptions.format))
  }
}
