// A report made of rows with named columns, rendered as a table, JSON, JSON Lines or CSV.
// JSON: the common header, then `rows`; JSON Lines: one row object per line (no header).

/// One cell: its JSON value and its text form for tables and CSV.
public struct Cell: Sendable {
  public var json: JSONValue
  public var text: String
  public init(_ json: JSONValue, text: String) {
    self.json = json
    self.text = text
  }
  public static func string(_ s: String) -> Cell { Cell(.string(s), text: s) }
  public static func string(_ s: String?) -> Cell { Cell(.string(s), text: s ?? "-") }
  public static func address(_ a: UInt64) -> Cell { Cell(.address(a), text: "0x" + String(a, radix: 16)) }
  public static func address(_ a: UInt64?) -> Cell { a.map(address) ?? Cell(.null, text: "-") }
  public static func int(_ i: Int64) -> Cell { Cell(.int(i), text: String(i)) }
  public static func bool(_ b: Bool) -> Cell { Cell(.bool(b), text: b ? "yes" : "no") }
}

/// Rows under named columns plus the report context and warnings.
public struct RowReport: Sendable {
  public var context: ReportContext
  /// JSON key of the rows array (`modules`, `processes`, `objects`, …).
  public var rowsKey: String
  public var columns: [String]
  public var rows: [[Cell]]
  public var warnings: [String]
  /// Extra top-level JSON members after the rows.
  public var extra: [(String, JSONValue)]

  public init(
    context: ReportContext, rowsKey: String, columns: [String], rows: [[Cell]], warnings: [String] = [],
    extra: [(String, JSONValue)] = []
  ) {
    self.context = context
    self.rowsKey = rowsKey
    self.columns = columns
    self.rows = rows
    self.warnings = warnings
    self.extra = extra
  }

  private func rowObject(_ row: [Cell]) -> JSONValue {
    .object(zip(columns, row).map { ($0, $1.json) })
  }

  /// Renders in `format` (html falls back to table here; the HTML report is its own type).
  public func rendered(_ format: OutputFormat) -> String {
    switch format {
    case .json:
      var members = context.header
      members.append((rowsKey, .array(rows.map(rowObject))))
      members += extra
      members.append(("warnings", .array(warnings.map { .string($0) })))
      return JSONValue.object(members).serialized() + "\n"
    case .jsonl:
      return rows.map { rowObject($0).serialized(pretty: false) + "\n" }.joined()
    case .csv:
      return ([CSV.line(columns)] + rows.map { CSV.line($0.map(\.text)) }).joined(separator: "\n") + "\n"
    case .table, .html:
      var text = TextTable(headers: columns, rows: rows.map { $0.map(\.text) }).rendered()
      text += "\(rows.count) \(rowsKey)\n"
      for w in warnings { text += "warning: \(w)\n" }
      return text
    }
  }
}
