// `callscope symbols verify IMAGE`: runs the symbol-less locators on an image that has a symbol
// file and compares every located address with the profile's; exit 1 on any disagreement.

import ArgumentParser
import BinaryReading
import Callbacks
import Reports
import Symbols
import WindowsKernel

extension SymbolsCommand {
  struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "verify",
      abstract: "Compare the addresses located from exports and code with the profile's (exit 1 on a disagreement).")

    @OptionGroup var imageOptions: ImageOptions
    @OptionGroup var symbolOptions: SymbolOptions
    @OptionGroup var outputOptions: OutputOptions

    func validate() throws {
      guard [.table, .json].contains(outputOptions.format) else {
        throw ValidationError("symbols verify offers --format table or json")
      }
    }

    func run() throws {
      let (memory, system) = try imageOptions.discover()
      guard let image = system.kernel else {
        throw ValidationError(system.kernelError?.description ?? "kernel not found; give --kernel-base")
      }
      let profile = try ProfileResolution.load(identity: image.pdb, options: symbolOptions)
      let version = ReportContext(memory: memory, system: system).build
      let located = try SymbolLessProfile.make(
        space: system.space, image: image, version: version, bundle: try BundledProfiles.shipped())
      var rows: [(symbol: String, profile: UInt64?, located: UInt64, provenance: String, chain: String, agrees: Bool)] =
        []
      for symbol in located.located.values.sorted(by: { $0.name < $1.name }) {
        let expected = profile.symbol(symbol.name).map { image.base &+ $0.rva }
        let address = image.base &+ symbol.rva
        rows.append(
          (
            symbol.name, expected, address, symbol.provenance.rawValue,
            symbol.evidence.joined(separator: " | "), expected.map { $0 == address } ?? true
          ))
      }
      let disagreements = rows.filter { !$0.agrees }.count
      switch outputOptions.format {
      case .json:
        var members = ReportContext(memory: memory, system: system, symbolSource: profile.source.rawValue).header
        members.append(
          (
            "symbols",
            .array(
              rows.map { r in
                .object([
                  ("symbol", .string(r.symbol)), ("profile", r.profile.map { .address($0) } ?? .null),
                  ("located", .address(r.located)), ("provenance", .string(r.provenance)), ("agrees", .bool(r.agrees)),
                  ("chain", .string(r.chain)),
                ])
              })
          ))
        members.append(
          (
            "notLocated",
            .array(
              located.failures.values.sorted { $0.name < $1.name }.map { f in
                .object([("symbol", .string(f.name)), ("reason", .string(f.reason))])
              })
          ))
        members.append(("disagreements", .int(Int64(disagreements))))
        try outputOptions.emit(JSONValue.object(members).serialized() + "\n")
      default:
        let table = TextTable(
          headers: ["symbol", "profile", "located", "provenance", "verdict", "chain"],
          rows: rows.map { r in
            [
              r.symbol, r.profile.map { Hex.format($0) } ?? "-", Hex.format(r.located), r.provenance,
              r.profile == nil ? "no profile symbol" : (r.agrees ? "agrees" : "DIFFERS"), r.chain,
            ]
          })
        var text = table.rendered() + "\n"
        for f in located.failures.values.sorted(by: { $0.name < $1.name }) {
          text += "not located: \(f.name): \(f.reason)\n"
        }
        text += "\(rows.count) located, \(disagreements) disagree with the profile (\(profile.sourceDescription))\n"
        try outputOptions.emit(text)
      }
      if disagreements > 0 { throw FindingsExit() }
    }
  }
}
