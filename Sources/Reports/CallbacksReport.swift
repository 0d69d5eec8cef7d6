// `callscope callbacks`: one row per routine with its owner (DESIGN.md "A callback row"), families
// that could not be located, and warnings; the table groups rows by family with counts.

import Analysis
import BinaryReading
import Callbacks
import WindowsKernel

/// The callbacks report.
public struct CallbacksReport: Sendable {
  public var context: ReportContext
  public var rows: [CallbackRow]
  /// Families selected but not located, with the reason.
  public var notLocated: [(family: String, reason: String)]
  /// Family ids that were read (selected and located), for counts of zero.
  public var familiesRead: [String]
  public var warnings: [String]
  /// Findings about whole families (counters, broken lists).
  public var familyFindings: [FamilyFinding]
  /// The locators' evidence when the kernel had no symbol file (JSON `locatedSymbols`).
  public var located: LocatedSymbolsReport?
  /// Heads family readers located in other modules (JSON `moduleSymbols`; `--explain`).
  public var moduleHeads: [ModuleHead]
  /// Print that evidence in the table form too (`--explain`).
  public var explain = false
  /// Per family listed by deviations only, the unflagged entries left out (CallbackAnalysis.asExpected).
  public var asExpected: [String: Int] = [:]

  /// The report of analysed results.
  public init(context: ReportContext, results: [FamilyResult], verdicts: CallbackVerdicts) {
    self.context = context
    self.rows = verdicts.rows
    self.familyFindings = verdicts.familyFindings
    self.notLocated = results.compactMap { r in r.notLocated.map { (r.family, $0) } }
    self.familiesRead = results.filter { $0.notLocated == nil }.map(\.family)
    self.warnings = results.flatMap { r in r.warnings.map { "\(r.family): \($0)" } }
    self.moduleHeads = results.flatMap(\.moduleHeads)
  }

  static func json(_ value: DetailValue) -> JSONValue {
    switch value {
    case .string(let s): return .string(s)
    case .int(let i): return .int(i)
    case .address(let a): return .address(a)
    case .bool(let b): return .bool(b)
    case .null: return .null
    }
  }

  /// A row as the stable JSON object of DESIGN.md.
  public static func rowJSON(_ row: CallbackRow) -> JSONValue {
    let e = row.entry
    var details = e.details.map { ($0.0, json($0.1)) }
    if let object = e.object { details.append(("objectAddress", .address(object))) }
    if row.flags.contains(Rule.patchedPrologue.rawValue), let bytes = row.prologue, let m = PrologueCheck.match(bytes) {
      details.append(("prologue", .string(m.bytes.map { String(format2: $0) }.joined(separator: " "))))
      details.append(("prologuePattern", .string(m.pattern)))
    }
    return .object([
      ("family", .string(e.family)),
      ("head", .address(e.head)),
      ("headSymbol", .string(e.headSymbol)),
      ("index", e.index.map { .int(Int64($0)) } ?? .null),
      ("raw", e.rawValue.map { .address($0) } ?? .null),
      ("routine", .address(e.routine)),
      ("module", .string(row.owner?.module.name)),
      ("moduleBase", row.owner.map { .address($0.module.base) } ?? .null),
      ("offset", row.owner.map { .address($0.offset) } ?? .null),
      ("symbol", .string(row.owner?.symbol)),
      ("details", .object(details)),
      ("flags", .array(row.flags.map { .string($0) })),
      ("provenance", .string(e.provenance.rawValue)),
    ])
  }

  /// Renders in a format.
  public func rendered(_ format: OutputFormat) -> String {
    switch format {
    case .json:
      var members = context.header
      members.append(("callbacks", .array(rows.map(Self.rowJSON))))
      members.append(
        (
          "notLocated",
          .array(notLocated.map { .object([("family", .string($0.family)), ("reason", .string($0.reason))]) })
        ))
      members.append(
        (
          "familyFindings",
          .array(
            familyFindings.map {
              .object([
                ("family", .string($0.family)), ("flag", .string($0.rule.rawValue)), ("detail", .string($0.detail)),
              ])
            })
        ))
      members.append(
        (
          "asExpected",
          .array(
            asExpected.sorted { $0.key < $1.key }.map {
              .object([("family", .string($0.key)), ("entries", .int(Int64($0.value)))])
            })
        ))
      members.append(("warnings", .array(warnings.map { .string($0) })))
      if let located { members.append(("locatedSymbols", located.json)) }
      if !moduleHeads.isEmpty {
        members.append(
          (
            "moduleSymbols",
            .array(
              moduleHeads.map { h in
                .object([
                  ("family", .string(h.family)), ("module", .string(h.module)), ("symbol", .string(h.symbol)),
                  ("address", .address(h.address)), ("provenance", .string(h.provenance.rawValue)),
                  ("evidence", .array(h.evidence.map { .string($0) })),
                ])
              })
          ))
      }
      return JSONValue.object(members).serialized() + "\n"
    case .jsonl:
      return rows.map { Self.rowJSON($0).serialized(pretty: false) + "\n" }.joined()
    case .csv:
      let header = [
        "family", "head", "headSymbol", "index", "routine", "module", "offset", "symbol", "flags", "provenance",
        "details",
      ]
      let lines = rows.map { row -> String in
        let e = row.entry
        return CSV.line([
          e.family, Hex.format(e.head), e.headSymbol, e.index.map(String.init) ?? "", Hex.format(e.routine),
          row.owner?.module.name ?? "", row.owner.map { Hex.format($0.offset) } ?? "",
          row.owner.map { $0.symbol ?? $0.moduleOffsetText } ?? "", row.flags.joined(separator: "|"),
          e.provenance.rawValue,
          e.details.map { "\($0.0)=\(Self.text($0.1))" }.joined(separator: "; "),
        ])
      }
      return ([CSV.line(header)] + lines).joined(separator: "\n") + "\n"
    case .html:
      return html
    case .table:
      return table
    }
  }

  static func text(_ value: DetailValue) -> String {
    switch value {
    case .string(let s): return s
    case .int(let i): return String(i)
    case .address(let a): return Hex.format(a)
    case .bool(let b): return b ? "yes" : "no"
    case .null: return "-"
    }
  }

  /// Details worth a table column: the family's most telling ones, short.
  static func summary(_ e: CallbackEntry) -> String {
    let keys = [
      "flavour", "component", "reasonName", "altitude", "routineKind", "operationNames", "driverName", "guid", "object",
      "eventCategory", "classGuidName", "name", "componentName", "hostId",
    ]
    return e.details.filter { keys.contains($0.0) && $0.1 != .null }.map { "\($0.0)=\(text($0.1))" }
      .joined(separator: " ")
  }

  var table: String {
    var text = ""
    var byFamily: [String: [CallbackRow]] = [:]
    for row in rows { byFamily[row.entry.family, default: []].append(row) }
    var order = familiesRead.filter { $0 != "carved" }
    for row in rows where !order.contains(row.entry.family) { order.append(row.entry.family) }
    for family in order where (byFamily[family]?.isEmpty ?? true) == false {
      let familyRows = byFamily[family] ?? []
      text += "\(family) (\(familyRows.count))\n"
      let t = TextTable(
        headers: ["index", "routine", "owner", "flags", "details"],
        rows: familyRows.map { row in
          [
            row.entry.index.map(String.init) ?? "-", Hex.format(row.entry.routine),
            row.owner.map { $0.symbol ?? $0.moduleOffsetText } ?? "(no module)", row.flags.joined(separator: ","),
            Self.summary(row.entry),
          ]
        })
      text += t.rendered().split(separator: "\n").map { "  " + $0 }.joined(separator: "\n") + "\n\n"
    }
    for (family, count) in asExpected.sorted(by: { $0.key < $1.key }) where count > 0 {
      text += "as expected: \(family): \(count) entries where they belong (--family \(family) lists them)\n"
    }
    let empty = familiesRead.filter { $0 != "carved" && byFamily[$0]?.isEmpty ?? true && (asExpected[$0] ?? 0) == 0 }
    if !empty.isEmpty { text += "no entries: \(empty.joined(separator: ", "))\n" }
    for (family, reason) in notLocated { text += "not located: \(family): \(reason)\n" }
    for f in familyFindings { text += "FINDING \(f.family): \(f.rule.rawValue): \(f.detail)\n" }
    let used = Set(rows.flatMap(\.flags))
    for rule in Rule.allCases where used.contains(rule.rawValue) { text += "  \(rule.rawValue): \(rule.explanation)\n" }
    text += "\(rows.count) callbacks in \(byFamily.count) families"
    let flagged = rows.filter { !$0.flags.isEmpty }.count
    text += flagged > 0 ? ", \(flagged) flagged\n" : "\n"
    for w in warnings { text += "warning: \(w)\n" }
    if explain, let located { text += "\n" + located.text }
    if explain {
      for h in moduleHeads {
        text += "\n\(h.module)!\(h.symbol) = \(Hex.format(h.address)) (\(h.provenance.rawValue), \(h.family))\n"
        for step in h.evidence { text += "  \(step)\n" }
      }
    }
    return text
  }
}

extension String {
  /// Two lowercase hex digits.
  init(format2 byte: UInt8) {
    let s = String(byte, radix: 16)
    self = s.count == 1 ? "0" + s : s
  }
}

extension CallbacksReport {
  /// Whether any row or family is flagged.
  public var hasFindings: Bool { rows.contains { !$0.flags.isEmpty } || !familyFindings.isEmpty }
}
