// The user-mode modules' symbol files `trace` names frames with: each module's PDB (by the CodeView
// identity of its image in the process) looked up once per trace on the symbol path, as `kct --map`
// and the owner symbols of the image commands look them up. A module's names are its exports and,
// when its PDB is found, the PDB's publics (so a frame in a function user32 does not export is
// still named); at one RVA the export's name wins.

import PortableExecutable
import Symbols

/// Symbol files found so far, by PDB identity.
final class TraceSymbolFiles {
  let options: SymbolOptions
  /// Whether names are x86 ones, shown undecorated (`_SendMessageW@16` → `SendMessageW`).
  let undecorate: Bool
  private var profiles: [String: (any KernelProfile)?] = [:]

  init(options: SymbolOptions, undecorate: Bool = false) {
    self.options = options
    self.undecorate = undecorate
  }

  /// The names of one address as shown: on x86 a decorated public (`_f`, `_f@8`) whose plain twin
  /// (`f`, the procedure's own name) is among them is dropped, and the others are undecorated —
  /// except a plain name that another one undecorates to (`__fnDWORD` beside `___fnDWORD`).
  func displayNames(_ names: [String]) -> [String] {
    guard undecorate else { return names }
    let all = Set(names)
    let plainForms = Set(names.compactMap(X86Decoration.undecorate))
    var out: [String] = []
    for name in names {
      if let plain = X86Decoration.undecorate(name), all.contains(plain) { continue }
      let shown = plainForms.contains(name) ? name : X86Decoration.undecorate(name) ?? name
      if !out.contains(shown) { out.append(shown) }
    }
    return out
  }

  /// The profile of `identity` from the symbol path, nil when nothing answers (asked once).
  func profile(_ identity: PDBIdentity) -> (any KernelProfile)? {
    let key = identity.name.lowercased() + "/" + identity.isfKey
    if let known = profiles[key] { return known }
    let found = ProfileResolution.loadOptional(identity: identity, options: options)
    profiles[key] = .some(found)
    return found
  }

  /// The PDB identity in a module's CodeView record, when readable.
  static func identity(of pe: PEImage) -> PDBIdentity? {
    guard let cv = try? pe.codeView() else { return nil }
    return PDBIdentity(name: cv.pdbFileName, guid: cv.guidString, age: cv.age)
  }

  /// A module's names sorted by RVA: its exports, then its PDB's publics at the RVAs no export has.
  func names(of module: TraceModule, memory: TraceMemory) -> [(rva: UInt64, name: String)] {
    let source = TraceModuleSource(memory: memory, base: module.base, size: module.size, sourceName: module.name)
    guard let pe = try? PEImage(source: source, layout: .mapped) else { return [] }
    var names: [(rva: UInt64, name: String)] = []
    if let exports = try? pe.exports() {
      for entry in exports.entries where !entry.isForwarder {
        if let name = entry.name { names.append((UInt64(entry.rva), name)) }
      }
    }
    let exported = Set(names.map(\.rva))
    if let identity = Self.identity(of: pe), let profile = profile(identity) {
      var byRVA: [UInt64: [String]] = [:]
      for name in profile.symbolNames {
        guard let rva = profile.symbol(name)?.rva, rva < module.size, !exported.contains(rva) else { continue }
        byRVA[rva, default: []].append(name)
      }
      for (rva, candidates) in byRVA {
        for name in displayNames(candidates) { names.append((rva, name)) }
      }
    }
    return names.sorted { $0.rva < $1.rva || ($0.rva == $1.rva && $0.name < $1.name) }
  }
}
