// Symbol tables of the modules that own reported routines: the kernel's own profile, and each
// driver's PDB found through the symbol path (from the CodeView record of its image in memory).

import AddressSpace
import Symbols
import WindowsKernel

enum OwnerSymbols {
  /// Symbolizers (by lowercased module name) for the modules holding `routines`.
  static func symbolizers(
    for routines: [UInt64], modules: [LoadedModule], session: KernelSession, options: SymbolOptions
  ) -> [String: ModuleSymbolizer] {
    let resolver = OwnerResolver(modules: modules)
    var owners: [String: LoadedModule] = [:]
    for routine in routines {
      if let owner = resolver.owner(of: routine) { owners[owner.module.name.lowercased()] = owner.module }
    }
    var result: [String: ModuleSymbolizer] = [:]
    for (key, module) in owners {
      let profile: (any KernelProfile)?
      if module.base == session.kernel.image.base {
        profile = session.kernel.profile
      } else if let identity = ModuleSymbolizer.identity(of: module, space: session.kernel.space) {
        profile = ProfileResolution.loadOptional(identity: identity, options: options)
      } else {
        profile = nil
      }
      if let profile, let symbolizer = ModuleSymbolizer(profile: profile) { result[key] = symbolizer }
    }
    return result
  }

  /// A kernel module's own symbol table from the symbol path (fltmgr.pdb for the minifilter family),
  /// by the CodeView record of its image in memory; nil when the module has none or nothing answers.
  static func moduleProfile(space: VirtualAddressSpace, options: SymbolOptions)
    -> @Sendable (LoadedModule) -> (
      any KernelProfile
    )?
  {
    { module in
      guard !options.noSymbols, let identity = ModuleSymbolizer.identity(of: module, space: space) else { return nil }
      return ProfileResolution.loadOptional(identity: identity, options: options)
    }
  }
}
