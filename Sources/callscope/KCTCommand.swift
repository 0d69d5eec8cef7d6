// `callscope kct IMAGE [--map]`: KernelCallbackTable per process, or the ApiNumber → __fn map.

import AddressSpace
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
      The expected table comes from user32's PDB found through the symbol path (names from its \
      __fn* publics); without it, from the value most GUI processes share, bounded by user32's image. \
      --map prints the index → routine (and __fnXXX name) table of the image's build.
      """)

  @OptionGroup var imageOptions: ImageOptions
  @OptionGroup var symbolOptions: SymbolOptions
  @OptionGroup var outputOptions: OutputOptions

  @Flag(help: "Print the ApiNumber → __fnXXX map instead of the per-process check.")
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
    var expected = fromPDB(gathered, kernel: kernel, warnings: &warnings)
    if expected == nil { expected = KernelCallbackTableScanner.majority(gathered, kernel: kernel) }
    let checked = KernelCallbackTableScanner.check(gathered, expected: expected, kernel: kernel)
    let report = CallbackTableReport(
      context: session.context, processes: checked, expected: expected, warnings: warnings)
    try outputOptions.emit(map ? report.renderedMap(outputOptions.format) : report.rendered(outputOptions.format))
    if failOnFindings, report.hasFindings { throw FindingsExit() }
  }

  /// The expectation from user32's PDB: apfnDispatch's address and the __fn* names of its slots.
  private func fromPDB(_ gathered: [KernelCallbackTableScanner.Gathered], kernel: Kernel, warnings: inout [String])
    -> ExpectedCallbackTable?
  {
    guard
      let host = gathered.first(where: { $0.user32 != nil && $0.table != 0 })
        ?? gathered.first(where: { $0.user32 != nil }),
      let user32 = host.user32
    else { return nil }
    let space = ProcessList.addressSpace(of: host.process, kernel: kernel)
    let source = VirtualByteSource(
      space: space, base: user32.base, size: user32.size, name: "user32.dll in pid \(host.process.pid)")
    guard let pe = try? PEImage(source: source, layout: .mapped), let cv = try? pe.codeView() else {
      warnings.append("user32.dll's debug directory is not readable; expected table taken from the processes")
      return nil
    }
    let identity = PDBIdentity(name: "user32.pdb", guid: cv.guidString, age: cv.age)
    guard let profile = ProfileResolution.loadOptional(identity: identity, options: symbolOptions),
      let expected = KernelCallbackTableScanner.expected(
        fromPDB: profile, user32: user32, process: host.process, kernel: kernel)
    else {
      warnings.append(
        "user32.pdb \(identity.isfKey) (with apfnDispatch) not found on the symbol path; "
          + "expected table taken from the processes")
      return nil
    }
    return expected
  }
}
