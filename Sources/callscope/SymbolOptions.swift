// Options that say where symbols come from: --symbols (repeatable), _NT_SYMBOL_PATH,
// --symbol-server, --offline. Lookup order: explicit files, the symbol path/cache, bundled, server.

import ArgumentParser

struct SymbolOptions: ParsableArguments {
  @Option(
    name: .customLong("symbols"),
    help: "A PDB or ISF file, a directory of them, a symbol store or a Volatility 3 symbols directory (repeatable).")
  var symbols: [String] = []

  @Option(name: .customLong("symbol-server"), help: "Symbol server URL (default: Microsoft's public server).")
  var symbolServer: String?

  @Flag(help: "Never use the network.")
  var offline = false
}
