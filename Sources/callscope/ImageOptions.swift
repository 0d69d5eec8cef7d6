// Options shared by every command that opens an image.

import AddressSpace
import ArgumentParser
import BinaryReading
import MemoryImage
import Reports
import WindowsKernel

/// Parses `0x…` addresses (also WinDbg's backtick form) for options.
struct Address: ExpressibleByArgument, Sendable {
  let value: UInt64
  init?(argument: String) {
    guard let v = Hex.parse(argument) else { return nil }
    value = v
  }
}

extension PagingMode: ExpressibleByArgument {}
extension OutputFormat: ExpressibleByArgument {}

/// The image argument and the overrides of discovery.
struct ImageOptions: ParsableArguments {
  @Argument(help: "Memory image: raw/.vmem, LiME, ELF core, or Windows crash dump.")
  var image: String

  @Option(help: "Directory table base (physical address of the top-level page table).")
  var dtb: Address?

  @Option(help: "Paging mode: x64-4level, x64-5level, x86-pae or x86.")
  var paging: PagingMode?

  @Option(name: .customLong("kernel-base"), help: "Virtual address of ntoskrnl's image.")
  var kernelBase: Address?

  var discoveryOptions: DiscoveryOptions {
    DiscoveryOptions(dtb: dtb?.value, paging: paging, kernelBase: kernelBase?.value)
  }

  /// Opens the image (format detected from content).
  func open() throws -> any PhysicalMemory {
    try MemoryImageOpener.open(path: image)
  }

  /// Opens the image and runs discovery.
  func discover() throws -> (any PhysicalMemory, DiscoveredSystem) {
    let memory = try open()
    return (memory, try KernelDiscovery.discover(memory: memory, options: discoveryOptions))
  }
}

/// `--format` and `--output`.
struct OutputOptions: ParsableArguments {
  @Option(help: "Output format: table, json, jsonl, csv or html (not every command offers all).")
  var format: OutputFormat = .table

  @Option(name: .shortAndLong, help: "Write the report to this file instead of standard output.")
  var output: String?

  /// Writes the finished report.
  func emit(_ text: String) throws {
    if let output {
      try FileWriter.write(text, to: output)
    } else {
      Terminal.standardOutput.write(text)
    }
  }
}
