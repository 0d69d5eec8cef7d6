// Names addresses inside a module from its full symbol table (a PDB or ISF file): the nearest
// symbol at or below the RVA, as debuggers print `module!symbol+0xoff`. The bundled profiles hold
// only the few variables CallScope reads, so they are never used for naming (the nearest of those
// would be a misleading name).

import AddressSpace
import PortableExecutable
import Symbols

/// RVA → nearest symbol for one module.
public struct ModuleSymbolizer: Sendable {
  private let rvas: [UInt64]
  private let names: [String]

  /// Builds from the full-table parts of `profile`; nil when only bundled data is available.
  public init?(profile: any KernelProfile) {
    let parts: [any KernelProfile]
    if let composite = profile as? CompositeProfile {
      parts = composite.profiles.filter { $0.source != .bundled }
    } else {
      parts = profile.source == .bundled ? [] : [profile]
    }
    var pairs: [(UInt64, String)] = []
    for part in parts {
      for name in part.symbolNames {
        if let rva = part.symbol(name)?.rva { pairs.append((rva, name)) }
      }
    }
    guard !pairs.isEmpty else { return nil }
    pairs.sort { $0.0 < $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }
    rvas = pairs.map(\.0)
    names = pairs.map(\.1)
  }

  /// The nearest symbol at or below `rva`, with its RVA.
  public func nearest(_ rva: UInt64) -> (String, UInt64)? {
    var lo = 0
    var hi = rvas.count
    while lo < hi {
      let mid = (lo + hi) / 2
      if rvas[mid] <= rva { lo = mid + 1 } else { hi = mid }
    }
    guard lo > 0 else { return nil }
    // Among equal RVAs the first name in sort order wins (stable output).
    var i = lo - 1
    while i > 0, rvas[i - 1] == rvas[i] { i -= 1 }
    return (names[i], rvas[i])
  }

  /// The PDB identity of a module mapped in kernel space (from its CodeView record), when readable.
  public static func identity(of module: LoadedModule, space: AddressSpace.VirtualAddressSpace) -> PDBIdentity? {
    let source = VirtualByteSource(space: space, base: module.base, size: module.size, name: module.name)
    guard let pe = try? PEImage(source: source, layout: .mapped), let cv = try? pe.codeView() else { return nil }
    return PDBIdentity(name: cv.pdbFileName, guid: cv.guidString, age: cv.age)
  }
}
