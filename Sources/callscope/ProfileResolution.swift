// Loads the profile of a PDB identity for the commands: explicit --symbols files, the symbol path
// and cache, the bundled profiles, then a symbol server unless --offline.

import Symbols

enum ProfileResolution {
  /// Opens a PDB file with the PDB reader.
  static func openPDB(_ path: String) throws -> any KernelProfile { try PDBProfile(path: path) }

  /// The symbol path the options describe (plus _NT_SYMBOL_PATH).
  static func symbolPath(_ options: SymbolOptions) throws -> SymbolPath {
    try SymbolPath.resolve(symbols: options.symbols, symbolServer: options.symbolServer)
  }

  /// The profile of `identity`, or an error saying where it was looked for.
  static func load(identity: PDBIdentity, options: SymbolOptions) throws -> any KernelProfile {
    try ProfileLoader.load(
      identity: identity, symbolPath: try symbolPath(options), offline: options.offline, openPDB: openPDB)
  }

  /// The profile of a module's PDB (e.g. user32.pdb), or nil when nothing on the path answers.
  static func loadOptional(identity: PDBIdentity, options: SymbolOptions) -> (any KernelProfile)? {
    try? load(identity: identity, options: options)
  }
}
