// `callbacks --family list`: every family with what registers into it, its head symbols and the
// bundled builds whose profile has a head — no image needed.

import Callbacks

/// The family list in every row format.
public struct FamilyListReport: Sendable {
  public let families: [FamilyDescriptor]
  /// Per family id, the bundled builds that have it.
  public let coverage: [String: [FamilyBuildCoverage]]

  public init(families: [FamilyDescriptor], coverage: [String: [FamilyBuildCoverage]]) {
    self.families = families
    self.coverage = coverage
  }

  /// `19041` when every bundled profile of the build has the family, `19041 (3/39)` when some do.
  static func text(_ c: FamilyBuildCoverage) -> String {
    c.present == c.profiles ? String(c.build) : "\(c.build) (\(c.present)/\(c.profiles))"
  }

  private func builds(_ id: String) -> [FamilyBuildCoverage] { coverage[id] ?? [] }

  private func row(_ f: FamilyDescriptor) -> JSONValue {
    .object([
      ("id", .string(f.id)), ("title", .string(f.title)), ("registration", .string(f.registration)),
      ("heads", .array(f.heads.map { .string($0.displayName) })),
      (
        "builds",
        .array(
          builds(f.id).map {
            .object([
              ("build", .int(Int64($0.build))), ("profiles", .int(Int64($0.present))),
              ("of", .int(Int64($0.profiles))),
            ])
          })
      ),
    ])
  }

  /// Renders in `format` (html falls back to the table).
  public func rendered(_ format: OutputFormat) -> String {
    let columns = ["id", "registration", "heads", "builds"]
    let textRows = families.map { f in
      [
        f.id, f.registration, f.heads.map(\.displayName).joined(separator: " / "),
        builds(f.id).map(Self.text).joined(separator: " "),
      ]
    }
    switch format {
    case .json:
      return JSONValue.object([("schema", .string("callscope/1")), ("families", .array(families.map(row)))])
        .serialized() + "\n"
    case .jsonl:
      return families.map { row($0).serialized(pretty: false) + "\n" }.joined()
    case .csv:
      return ([CSV.line(columns)] + textRows.map { CSV.line($0) }).joined(separator: "\n") + "\n"
    case .table, .html:
      var text = TextTable(headers: columns, rows: textRows.map { r in r.map { $0.isEmpty ? "-" : $0 } }).rendered()
      text += "\(families.count) families; builds: the bundled profiles naming a head (n/m: n of the build's m)\n"
      return text
    }
  }
}
