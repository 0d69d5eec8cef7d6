// Plain-text tables for the terminal: left-aligned columns sized to their content.

/// A table of string cells rendered with a header and a rule.
public struct TextTable: Sendable {
  public var headers: [String]
  public var rows: [[String]]

  public init(headers: [String], rows: [[String]] = []) {
    self.headers = headers
    self.rows = rows
  }

  /// The table as lines of text, columns separated by two spaces, no trailing blanks.
  public func rendered() -> String {
    var widths = headers.map(\.count)
    for row in rows {
      for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
    }
    func line(_ cells: [String]) -> String {
      var parts: [String] = []
      for (i, width) in widths.enumerated() {
        let cell = i < cells.count ? cells[i] : ""
        parts.append(i == widths.count - 1 ? cell : cell.padding(toLength: width))
      }
      return String(parts.joined(separator: "  ").reversed().drop(while: { $0 == " " }).reversed())
    }
    var out = [line(headers), line(widths.map { String(repeating: "-", count: $0) })]
    out += rows.map(line)
    return out.joined(separator: "\n") + "\n"
  }
}

extension String {
  fileprivate func padding(toLength length: Int) -> String {
    count >= length ? self : self + String(repeating: " ", count: length - count)
  }
}

/// Key–value lines (`info`), keys padded to one width.
public struct KeyValueList: Sendable {
  public var items: [(String, String)]
  public init(_ items: [(String, String)]) { self.items = items }
  public func rendered() -> String {
    let width = items.map(\.0.count).max() ?? 0
    return items.map { key, value in
      key + ":" + String(repeating: " ", count: width - key.count + 1) + value
    }.joined(separator: "\n") + "\n"
  }
}
