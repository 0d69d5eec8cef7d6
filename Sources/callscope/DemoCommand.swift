// `callscope demo --image PATH`: runs the main job on the SYNTHETIC demo image, labelled as such. The
// image is written by the separate `callscope-demo-image` tool (CallScope's test-support builder), so
// this binary does not contain the builder; `scripts/demo` runs both.

import ArgumentParser
import Foundation
import MemoryImage
import Reports
import WindowsKernel

struct DemoCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "demo",
    abstract: "Run CallScope on the synthetic demo image (written by callscope-demo-image).",
    discussion: """
      The image is synthesised by CallScope's own builder; it is not memory of a real machine. Write it with
      `callscope-demo-image PATH` (built beside callscope), or run ./scripts/demo, which does both.
      """)

  @Option(name: .customLong("image"), help: "The demo image written by callscope-demo-image.")
  var imagePath: String

  func validate() throws {
    guard FileManager.default.fileExists(atPath: imagePath) else {
      throw ValidationError("no demo image at \(imagePath): write one with `callscope-demo-image \(imagePath)`")
    }
  }

  func run() throws {
    let path = imagePath
    let out = Terminal.standardOutput
    out.write("== SYNTHETIC demo image (written by CallScope's builder, not a real machine): \(path)\n\n")
    let memory = try MemoryImageOpener.open(path: path)
    let system = try KernelDiscovery.discover(memory: memory)
    let report = InfoReport(memory: memory, system: system, synthetic: true)
    out.write("$ callscope info \(path)\n" + report.table)
    out.write("\n== SYNTHETIC callbacks (four made-up drivers and one planted anomaly)\n\n")
    out.write("$ callscope callbacks --offline \(path)\n")
    var callbacks = try CallbacksCommand.parse([path, "--offline"])
    try callbacks.run()
  }
}
