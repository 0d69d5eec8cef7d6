// Which source answered what for a kernel: struct layouts and addresses separately, since a kernel
// without a matching symbol file takes its layouts from a bundled build and its addresses from
// its own exports and code (`info` shows both).

import Symbols

/// Where a profile's layouts and addresses come from.
public struct SymbolSourcesReport: Sendable {
  public let source: String
  public let layouts: String
  public let addresses: String
  /// Symbols searched for and not found (located profiles only).
  public let notLocated: [String]
  /// Counts by provenance of the located addresses (`export`, `pattern`).
  public let located: [String: Int]
  /// Why no symbol file was used, when one was looked for.
  public let note: String?
  /// Field offsets found in the data because the lent layouts did not fit (located profiles only).
  public let derivedFields: [DerivedField]

  public init(profile: any KernelProfile, loadError: String?) {
    source = profile.source.rawValue
    note = loadError
    if let p = profile as? LocatedProfile {
      layouts = p.layoutSource
      var counts: [String: Int] = [:]
      for s in p.located.values { counts[s.provenance.rawValue, default: 0] += 1 }
      located = counts
      addresses =
        "located: \(counts.sorted { $0.key < $1.key }.map { "\($0.value) from \($0.key)" }.joined(separator: ", "))"
      notLocated = p.failures.keys.sorted()
      derivedFields = (p.layouts as? DerivedLayoutProfile)?.derived ?? []
    } else {
      layouts = profile.sourceDescription
      addresses = profile.sourceDescription
      located = [:]
      notLocated = []
      derivedFields = []
    }
  }

  public var json: JSONValue {
    .object([
      ("source", .string(source)), ("layouts", .string(layouts)), ("addresses", .string(addresses)),
      ("located", .object(located.sorted { $0.key < $1.key }.map { ($0.key, .int(Int64($0.value))) })),
      ("notLocated", .array(notLocated.map { .string($0) })), ("note", .string(note)),
      (
        "derivedFields",
        .array(
          derivedFields.map {
            .object([
              ("struct", .string($0.structName)), ("field", .string($0.field)), ("offset", .int(Int64($0.offset))),
              ("evidence", .string($0.evidence)),
            ])
          })
      ),
    ])
  }
}
