// `callscope diff`: callbacks added, removed and changed between a baseline and a current snapshot,
// as a table (sections Added / Removed / Changed) or as JSON (schema `callscope/1`).

import Analysis
import BinaryReading

/// The diff report.
public struct DiffReport: Sendable {
  public var baseline: CallbackSnapshot
  public var current: CallbackSnapshot
  public var diff: CallbackDiff

  /// The report of `current` against `baseline`.
  public init(baseline: CallbackSnapshot, current: CallbackSnapshot) {
    self.baseline = baseline
    self.current = current
    self.diff = CallbackDiff(baseline: baseline.rows, current: current.rows)
  }

  /// Whether anything was added or changed.
  public var hasFindings: Bool { diff.hasFindings }

  /// A snapshot's label object: `{path, source, image: {path, format}, kernel: {base, build}}`.
  static func snapshotJSON(_ s: CallbackSnapshot) -> JSONValue {
    .object([
      ("path", .string(s.path)),
      ("source", .string(s.source.rawValue)),
      ("image", .object([("path", .string(s.imagePath)), ("format", .string(s.imageFormat))])),
      ("kernel", .object([("base", s.kernelBase.map { .address($0) } ?? .null), ("build", .string(s.build))])),
      ("callbacks", .int(Int64(s.rows.count))),
    ])
  }

  static func value(_ v: DiffValue) -> JSONValue {
    switch v {
    case .text(let s): return .string(s)
    case .number(let n): return .int(n)
    case .bool(let b): return .bool(b)
    case .null: return .null
    }
  }

  /// A row: the callback-row members that survive a diff (details sorted by key).
  public static func rowJSON(_ r: CallbackDiffRow) -> JSONValue {
    .object([
      ("family", .string(r.family)),
      ("index", r.index.map { .int(Int64($0)) } ?? .null),
      ("routine", .address(r.routine)),
      ("module", .string(r.module)),
      ("offset", r.offset.map { .address($0) } ?? .null),
      ("symbol", .string(r.symbol)),
      ("details", .object(r.details.sorted { $0.key < $1.key }.map { ($0.key, value($0.value)) })),
      ("flags", .array(r.flags.map { .string($0) })),
    ])
  }

  /// Renders as JSON or as a table (other formats fall back to the table).
  public func rendered(_ format: OutputFormat) -> String {
    switch format {
    case .json:
      let members: [(String, JSONValue)] = [
        ("schema", .string("callscope/1")),
        ("baseline", Self.snapshotJSON(baseline)),
        ("current", Self.snapshotJSON(current)),
        ("added", .array(diff.added.map(Self.rowJSON))),
        ("removed", .array(diff.removed.map(Self.rowJSON))),
        (
          "changed",
          .array(
            diff.changed.map {
              .object([
                ("before", Self.rowJSON($0.before)), ("after", Self.rowJSON($0.after)),
                ("changes", .array($0.changes.map { .string($0) })),
              ])
            })
        ),
      ]
      return JSONValue.object(members).serialized() + "\n"
    default:
      return table
    }
  }

  func cells(_ r: CallbackDiffRow) -> [String] {
    [
      r.family, r.index.map(String.init) ?? "-", r.symbol ?? r.location, Hex.format(r.routine),
      r.flags.joined(separator: ","),
    ]
  }

  var table: String {
    var text = "baseline: \(baseline.path) (\(baseline.source.rawValue), \(baseline.rows.count) callbacks)\n"
    text += "current:  \(current.path) (\(current.source.rawValue), \(current.rows.count) callbacks)\n\n"
    let headers = ["family", "index", "module+offset / routine", "routine", "flags"]
    func section(_ title: String, _ rows: [[String]]) {
      text += "\(title) (\(rows.count))\n"
      if !rows.isEmpty {
        text +=
          TextTable(headers: headers, rows: rows).rendered().split(separator: "\n").map { "  " + $0 }
          .joined(separator: "\n") + "\n"
      }
      text += "\n"
    }
    section("Added", diff.added.map(cells))
    section("Removed", diff.removed.map(cells))
    text += "Changed (\(diff.changed.count))\n"
    for change in diff.changed {
      let r = change.after
      text += "  \(r.family) \(r.symbol ?? r.location)"
      if r.flags.isEmpty == false { text += " [\(r.flags.joined(separator: ","))]" }
      text += "\n"
      for line in change.changes { text += "    \(line)\n" }
    }
    text += "\n\(diff.added.count) added, \(diff.removed.count) removed, \(diff.changed.count) changed\n"
    return text
  }
}
