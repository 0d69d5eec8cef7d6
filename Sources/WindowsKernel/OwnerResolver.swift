// Says which module holds a kernel address: `module!symbol+0xoff` when the module's symbols are
// known, `module+0xoff` otherwise, nil outside every module. Ranges are half-open.

import BinaryReading
import Symbols

/// The owner of an address.
public struct Owner: Sendable, Hashable {
  public var module: LoadedModule
  /// Offset from the module base.
  public var offset: UInt64
  /// `module!symbol+0xoff` when a symbol is known.
  public var symbol: String?

  /// `module+0xoff`.
  public var moduleOffsetText: String { "\(module.name)+\(Hex.format(offset))" }
}

/// Resolves addresses against a set of modules (sorted once, then binary search).
public struct OwnerResolver: Sendable {
  private let modules: [LoadedModule]
  /// Symbol lookup per module name (lowercased): RVA → nearest symbol name and its RVA.
  private let symbolizers: [String: @Sendable (UInt64) -> (String, UInt64)?]

  public init(modules: [LoadedModule], symbolizers: [String: @Sendable (UInt64) -> (String, UInt64)?] = [:]) {
    self.modules = modules.filter { $0.size > 0 }.sorted { $0.base < $1.base }
    self.symbolizers = symbolizers
  }

  /// Preference when ranges overlap: the loader's list, then a carved loader entry (it has the
  /// file name), then a driver object.
  static func rank(_ origin: ModuleOrigin) -> Int {
    switch origin {
    case .loadedModuleList: return 0
    case .carved: return 1
    case .driverObject: return 2
    }
  }

  /// The module holding `address`, preferring a linked module when ranges overlap.
  public func owner(of address: UInt64) -> Owner? {
    var lo = 0
    var hi = modules.count
    while lo < hi {
      let mid = (lo + hi) / 2
      if modules[mid].base <= address { lo = mid + 1 } else { hi = mid }
    }
    // Candidates are the modules starting at or below the address; scan back a little for overlaps.
    var best: LoadedModule?
    var i = lo - 1
    var looked = 0
    while i >= 0, looked < 8 {
      let m = modules[i]
      if m.contains(address), best.map({ Self.rank(m.origin) < Self.rank($0.origin) }) ?? true {
        best = m
      }
      i -= 1
      looked += 1
    }
    guard let module = best else { return nil }
    let offset = address - module.base
    var symbol: String?
    if let symbolize = symbolizers[module.name.lowercased()], let (name, rva) = symbolize(offset) {
      let stem = module.name.split(separator: ".").first.map(String.init) ?? module.name
      symbol = "\(stem)!\(name)+\(Hex.format(offset - rva))"
    }
    return Owner(module: module, offset: offset, symbol: symbol)
  }
}
