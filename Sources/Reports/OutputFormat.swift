// The output formats the commands offer.

/// `--format` values.
public enum OutputFormat: String, Sendable, CaseIterable {
  case table, json, jsonl, csv, html
}

/// CSV with RFC 4180 quoting.
public enum CSV {
  /// One record, cells quoted when they contain a comma, quote or line break.
  public static func line(_ cells: [String]) -> String {
    cells.map { cell in
      if cell.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
        return "\"" + cell.replacingOccurrences(of: "\"", with: "\"\"") + "\""
      }
      return cell
    }.joined(separator: ",")
  }
}

extension String {
  fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
    split(separator: Character(target), omittingEmptySubsequences: false).joined(separator: replacement)
  }
}
