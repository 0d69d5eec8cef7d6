// Loads the profile of a PDB identity for the commands: explicit --symbols files, the symbol path
// and cache, the bundled profiles, then a symbol server unless --offline; else (or with --no-symbols)
// a profile located from the kernel's exports and code.

import AddressSpace
import ArgumentParser
import Callbacks
import MemoryImage
import Reports
import Symbols
import WindowsKernel

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

  /// The kernel's profile: from a matching symbol file (bundled, path, server) unless --no-symbols;
  /// otherwise — or when none matches — layouts lent by a bundled build of the same release and
  /// addresses located from the kernel's exports and code. `loadError` says why no file matched.
  static func kernelProfile(
    memory: any PhysicalMemory, system: DiscoveredSystem, image: KernelImage, options: SymbolOptions
  ) throws -> (profile: any KernelProfile, loadError: String?) {
    try kernelProfile(
      space: system.space, image: image, version: ReportContext(memory: memory, system: system).build,
      options: options)
  }

  /// The same for a kernel in `space` (a live guest's, for `trace`); `version` is the image's build
  /// string when known, else KUSER_SHARED_DATA's is read.
  static func kernelProfile(
    space: VirtualAddressSpace, image: KernelImage, version: String?, options: SymbolOptions
  ) throws -> (profile: any KernelProfile, loadError: String?) {
    var loadError: String?
    if !options.noSymbols {
      do { return (try load(identity: image.pdb, options: options), nil) } catch { loadError = "\(error)" }
    }
    var build = version ?? image.fileVersion
    if build == nil, let v = SharedUserData.version(in: space) { build = "\(v.major).\(v.minor).\(v.build)" }
    do {
      let located = try SymbolLessProfile.make(
        space: space, image: image, version: build, bundle: try BundledProfiles.shipped())
      return (located, loadError)
    } catch {
      throw ValidationError(loadError.map { "\($0); without symbols: \(error)" } ?? "\(error)")
    }
  }

  /// The profile of a module's PDB (e.g. user32.pdb), or nil when nothing on the path answers.
  static func loadOptional(identity: PDBIdentity, options: SymbolOptions) -> (any KernelProfile)? {
    try? load(identity: identity, options: options)
  }
}
