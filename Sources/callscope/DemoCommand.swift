// `callscope demo`: writes the bundled SYNTHETIC demo image (CallScope's own test-support builder)
// and runs the main job on it, so a fresh checkout shows the tool working without real data.

import ArgumentParser
import Foundation
import ImageBuilder
import MemoryImage
import Reports
import WindowsKernel

struct DemoCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "demo",
    abstract: "Write the synthetic demo image and run CallScope on it.",
    discussion: "The image is synthesised by CallScope's own builder; it is not memory of a real machine.")

  @Option(name: .customLong("image"), help: "Where to write the demo image (default: a temporary file, removed after).")
  var imagePath: String?

  @Option(help: "Seed of the synthetic layout (DTB, KASLR base, self-map index).")
  var seed: UInt64 = 1

  func run() throws {
    let path = imagePath ?? NSTemporaryDirectory() + "callscope-demo-\(ProcessInfo.processInfo.processIdentifier).raw"
    let builder = try WindowsImageBuilder(WindowsImageConfiguration(seed: seed))
    try builder.writeRaw(to: path)
    defer { if imagePath == nil { try? FileManager.default.removeItem(atPath: path) } }
    Terminal.standardOutput.write(
      "== SYNTHETIC demo image (written by CallScope's builder, not a real machine): \(path)\n\n")
    let memory = try MemoryImageOpener.open(path: path)
    let system = try KernelDiscovery.discover(memory: memory)
    let report = InfoReport(memory: memory, system: system, synthetic: true)
    Terminal.standardOutput.write("$ callscope info \(path)\n" + report.table)
  }
}
