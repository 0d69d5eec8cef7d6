// The evidence behind a profile located without symbol files: every located symbol with its
// chain (export → hops → instruction → target → shape check) and every symbol not found with the
// candidates tried. Shown by `callbacks --explain`, in JSON reports and by `symbols verify`.

import BinaryReading
import Symbols

/// Located symbols and failures of a LocatedProfile, ready to print.
public struct LocatedSymbolsReport: Sendable {
  public let layoutSource: String
  public let base: UInt64
  public let located: [LocatedSymbol]
  public let failures: [LocatorFailure]

  /// The report of `profile` for a kernel at `base`.
  public init(_ profile: LocatedProfile, base: UInt64) {
    layoutSource = profile.layoutSource
    self.base = base
    located = profile.located.values.sorted { $0.name < $1.name }
    failures = profile.failures.values.sorted { $0.name < $1.name }
  }

  /// `{"layouts": …, "located": [{symbol, address, provenance, evidence}], "notLocated": [{symbol, reason, candidates}]}`.
  public var json: JSONValue {
    .object([
      ("layouts", .string(layoutSource)),
      (
        "located",
        .array(
          located.map { s in
            .object([
              ("symbol", .string(s.name)), ("address", .address(base &+ s.rva)),
              ("provenance", .string(s.provenance.rawValue)),
              ("evidence", .array(s.evidence.map { .string($0) })),
            ])
          })
      ),
      (
        "notLocated",
        .array(
          failures.map { f in
            .object([
              ("symbol", .string(f.name)), ("reason", .string(f.reason)),
              ("candidates", .array(f.candidates.map { .string($0) })),
            ])
          })
      ),
    ])
  }

  /// The text form: one block per symbol.
  public var text: String {
    var out = "Symbols located without a symbol file (layouts from \(layoutSource)):\n"
    for s in located {
      out += "  \(s.name) = \(Hex.format(base &+ s.rva)) [\(s.provenance.rawValue)]\n"
      for line in s.evidence { out += "      \(line)\n" }
    }
    for f in failures {
      out += "  \(f.name): not located: \(f.reason)\n"
      for c in f.candidates { out += "      tried \(c)\n" }
    }
    return out
  }
}
