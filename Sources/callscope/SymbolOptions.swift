// Options that say where symbols come from: --symbols (repeatable), _NT_SYMBOL_PATH,
// --symbol-server, --offline, --no-symbols. Lookup order: explicit files, the symbol path/cache, bundled,
// server; when none matches the kernel (or with --no-symbols), exports and code patterns.

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

  @Flag(
    name: .customLong("no-symbols"),
    help: "Use no symbol file: layouts from a bundled build of the same release, addresses from exports and code.")
  var noSymbols = false
}
