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

/// `--kernel-base`, the override of discovery that also applies to a live stub (`trace`, which reads
/// through the stopped CPU's own page tables, so `--dtb` and `--paging` mean nothing there).
struct KernelBaseOverride: ParsableArguments {
  @Option(name: .customLong("kernel-base"), help: "Virtual address of ntoskrnl's image (default: discovered).")
  var kernelBase: Address?
}

/// The overrides of discovery every command that reads a kernel from an image or RAM file takes.
struct DiscoveryOverrides: ParsableArguments {
  @Option(help: "Directory table base (physical address of the top-level page table).")
  var dtb: Address?

  @Option(help: "Paging mode: x64-4level, x64-5level, x86-pae or x86.")
  var paging: PagingMode?

  @OptionGroup var kernel: KernelBaseOverride

  var kernelBase: Address? { kernel.kernelBase }

  var discoveryOptions: DiscoveryOptions {
    DiscoveryOptions(dtb: dtb?.value, paging: paging, kernelBase: kernelBase?.value)
  }
}

/// The image argument and the overrides of discovery.
struct ImageOptions: ParsableArguments {
  @Argument(help: "Memory image: raw/.vmem, LiME, ELF core, or Windows crash dump.")
  var image: String

  @OptionGroup var overrides: DiscoveryOverrides

  var dtb: Address? { overrides.dtb }
  var paging: PagingMode? { overrides.paging }
  var discoveryOptions: DiscoveryOptions { overrides.discoveryOptions }

  /// Opens the image (format detected from content).
  func open() throws -> any PhysicalMemory {
    try MemoryImageOpener.open(path: image, progress: Progress.bar(label: "decompressing"))
  }

  /// Opens the image and runs discovery.
  func discover() throws -> (any PhysicalMemory, DiscoveredSystem) {
    let memory = try open()
    return (memory, try KernelDiscovery.discover(memory: memory, options: discoveryOptions))
  }
}

/// The image options of a command that can also run without an image (`callbacks --family list`).
struct OptionalImageOptions: ParsableArguments {
  @Argument(help: "Memory image: raw/.vmem, LiME, ELF core, or Windows crash dump.")
  var image: String?

  @OptionGroup var overrides: DiscoveryOverrides

  /// The options with the image present, or the usage error naming what is missing.
  func required() throws -> ImageOptions {
    guard let image else { throw ValidationError("Missing expected argument '<image>'") }
    var options = ImageOptions()
    options.image = image
    options.overrides = overrides
    return options
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
    // A report built while an input file shrank read zeros for its lost pages: none is written.
    if let shrink = MappedFile.shrinkError() { throw shrink }
    if let output {
      try FileWriter.write(text, to: output)
    } else {
      Terminal.standardOutput.write(text)
    }
  }
}
