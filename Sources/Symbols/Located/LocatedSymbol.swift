// An address found without a symbol file — from the kernel's export table or by following its
// code — with the evidence that led to it, and the record of a symbol that could not be found.

/// A symbol located from the image itself.
public struct LocatedSymbol: Sendable, Hashable {
  public let name: String
  /// RVA from the kernel base.
  public let rva: UInt64
  /// `.export` (the export table) or `.pattern` (code followed from an export, or data derived).
  public let provenance: Provenance
  /// The chain, one step a line: export → hops → referencing instruction → target, then the shape
  /// check that accepted it.
  public let evidence: [String]

  public init(name: String, rva: UInt64, provenance: Provenance, evidence: [String]) {
    self.name = name
    self.rva = rva
    self.provenance = provenance
    self.evidence = evidence
  }
}

/// A symbol the locators could not determine, and why: every candidate tried with its verdict.
public struct LocatorFailure: Error, Sendable, Hashable {
  public let name: String
  public let reason: String
  /// `0xADDRESS (from chain): why it was rejected`.
  public let candidates: [String]

  public init(name: String, reason: String, candidates: [String] = []) {
    self.name = name
    self.reason = reason
    self.candidates = candidates
  }
}
