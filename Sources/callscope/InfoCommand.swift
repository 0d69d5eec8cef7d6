// `callscope info IMAGE`: format, arch, paging, DTB, kernel base, PDB id, build, symbol source.

import ArgumentParser
import Reports
import WindowsKernel

struct InfoCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "info", abstract: "Show the image's format, paging mode, DTB, kernel base, PDB and build.")

  @OptionGroup var imageOptions: ImageOptions
  @OptionGroup var symbolOptions: SymbolOptions
  @OptionGroup var outputOptions: OutputOptions

  func validate() throws {
    guard [.table, .json].contains(outputOptions.format) else {
      throw ValidationError("info offers --format table or json")
    }
  }

  func run() throws {
    let (memory, system) = try imageOptions.discover()
    // Which symbol source answers for this kernel (bundled, a PDB or ISF on the path, a download,
    // or — without a matching file — layouts lent by a bundled build and addresses located).
    var symbolSource: String?
    var symbols: SymbolSourcesReport?
    if let kernel = system.kernel {
      do {
        let (profile, loadError) = try ProfileResolution.kernelProfile(
          memory: memory, system: system, image: kernel, options: symbolOptions)
        symbolSource = profile.source.rawValue
        symbols = SymbolSourcesReport(profile: profile, loadError: loadError)
      } catch {
        Terminal.standardError.write("callscope: no symbols for \(kernel.pdb): \(error)\n")
      }
    }
    var report = InfoReport(memory: memory, system: system, symbolSource: symbolSource)
    report.symbols = symbols
    switch outputOptions.format {
    case .json: try outputOptions.emit(report.json.serialized() + "\n")
    default: try outputOptions.emit(report.table)
    }
  }
}
