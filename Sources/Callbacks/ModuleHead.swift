// A head a family reader located in another kernel module (fltmgr!FltGlobals): where it is, how it
// was found and the chain that proves it, for `--explain` and JSON `moduleSymbols`.

import Symbols
import WindowsKernel

/// A variable of a module other than ntoskrnl, located by a family's reader.
public struct ModuleHead: Sendable, Hashable {
  /// The family that located it.
  public let family: String
  /// `fltmgr.sys`.
  public let module: String
  public let symbol: String
  public let address: UInt64
  /// `pdb` (the module's symbol file) or `pattern` (its code or data, shape checked).
  public let provenance: Provenance
  /// One step a line: the PDB, or export → hops → instruction → target, then the layout used.
  public let evidence: [String]

  public init(
    family: String, module: String, symbol: String, address: UInt64, provenance: Provenance, evidence: [String]
  ) {
    self.family = family
    self.module = module
    self.symbol = symbol
    self.address = address
    self.provenance = provenance
    self.evidence = evidence
  }
}

/// A variable of another module that a reader located (FltGlobals, gWfpGlobal), with how.
public protocol LocatedModuleVariable: Sendable {
  /// The variable's address.
  var variableAddress: UInt64 { get }
  var provenance: Provenance { get }
  var evidence: [String] { get }
}

extension FamilyResult {
  /// An empty result of `family` that records `located` as its head `symbol` of `module`.
  public init(family: String, module: LoadedModule, symbol: String, located: some LocatedModuleVariable) {
    self.init(family: family)
    moduleHeads = [
      ModuleHead(
        family: family, module: module.name, symbol: symbol, address: located.variableAddress,
        provenance: located.provenance, evidence: located.evidence)
    ]
  }
}

extension CallbackContext {
  /// PsLoadedModuleList and the module named `name` (case-insensitive) in it, or why the family
  /// `family` that needs it is not located.
  public func loadedModule(_ name: String, for family: String) -> Result<
    (module: LoadedModule, modules: [LoadedModule]), FamilyNotLocated
  > {
    let modules: [LoadedModule]
    do { modules = try ModuleList.read(kernel).modules } catch {
      return .failure(FamilyNotLocated(family: family, reason: "PsLoadedModuleList unreadable: \(error)"))
    }
    guard let module = modules.first(where: { $0.name.lowercased() == name }) else {
      return .failure(FamilyNotLocated(family: family, reason: "\(name) is not in PsLoadedModuleList"))
    }
    return .success((module, modules))
  }
}

/// A family that cannot be read, and why (its not-located result).
public struct FamilyNotLocated: Error, Sendable {
  public let family: String
  public let reason: String
  /// The result that reports it.
  public var result: FamilyResult { FamilyResult(family: family, notLocated: reason) }
}
