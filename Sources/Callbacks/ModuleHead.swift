// A head a family reader located in another kernel module (fltmgr!FltGlobals): where it is, how it
// was found and the chain that proves it, for `--explain` and JSON `moduleSymbols`.

import Symbols

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
