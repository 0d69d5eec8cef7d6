// Assembles the profile of a PDB from everything reachable: files on the symbol path (explicit
// `--symbols` files first), the bundled profiles, then a symbol server unless offline.

import Foundation

/// Builds a CompositeProfile for a PDB identity.
public enum ProfileLoader {
  /// The profile of `identity`: local PDB/ISF files in symbol-path order, then the bundled
  /// profile, then (when no local file was found and not `offline`) a PDB downloaded from the
  /// path's servers. `openPDB` opens a PDB file (the PDB reader). Throws `.notFound` (or
  /// `.offline`) when nothing answers.
  public static func load(
    identity: PDBIdentity, symbolPath: SymbolPath, offline: Bool,
    openPDB: (String) throws -> any KernelProfile,
    store: SymbolStore? = nil, bundle: BundledProfiles? = nil
  ) throws(SymbolsError) -> CompositeProfile {
    let store = store ?? SymbolStore(path: symbolPath, offline: offline)
    var profiles: [any KernelProfile] = []
    var notes: [String] = []
    func open(_ location: SymbolFileLocation) {
      do {
        let p: any KernelProfile
        switch location {
        case .pdb(let path): p = try OpenedProfiles.profile(path) { try openPDB(path) }
        case .isf(let path): p = try OpenedProfiles.profile(path) { try ISFProfile(path: path) }
        }
        if SymbolStore.matches(p.identity, identity) {
          profiles.append(p)
        } else {
          notes.append("\(location.path): is \(p.identity.guid)-\(p.identity.age), not \(identity.isfKey); skipped")
        }
      } catch {
        notes.append("\(location.path): \(error)")
      }
    }
    for location in try store.findLocal(identity) { open(location) }
    let bundled: BundledProfiles?
    if let bundle {
      bundled = bundle
    } else {
      do { bundled = try BundledProfiles.shipped() } catch {
        notes.append("bundled profiles unavailable: \(error)")
        bundled = nil
      }
    }
    if let bundled, let p = try bundled.profile(for: identity) { profiles.append(p) }
    // The server is the last resort: only when nothing local or bundled answers.
    if profiles.isEmpty && !offline {
      do {
        open(try store.download(identity))
      } catch {
        notes.append("download: \(error)")
        if profiles.isEmpty { throw error }
      }
    }
    guard !profiles.isEmpty else {
      if offline && !store.path.servers.isEmpty { throw .offline(identity) }
      throw .notFound(identity, searched: store.path.searchedDirectories + ["bundled"])
    }
    return CompositeProfile(identity: identity, profiles: profiles, notes: notes)
  }
}
