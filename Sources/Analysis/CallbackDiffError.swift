// Errors of reading a saved callbacks report for `callscope diff`.

/// Why a saved report could not be read.
public enum CallbackDiffError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The file could not be opened or mapped.
  case unreadable(path: String, reason: String)
  /// The file is larger than a report can sensibly be.
  case tooLarge(path: String, size: UInt64, limit: UInt64)
  /// The text is not valid JSON.
  case malformedJSON(path: String, reason: String)
  /// Valid JSON, but not a `callscope/1` callbacks report.
  case notACallbacksReport(path: String, reason: String)
  /// A callback row lacks a member or has one of the wrong type.
  case badRow(path: String, index: Int, member: String, expected: String)

  public var description: String {
    switch self {
    case .unreadable(let path, let reason): return "report `\(path)`: cannot read: \(reason)"
    case .tooLarge(let path, let size, let limit):
      return "report `\(path)`: \(size) bytes, more than the \(limit) a callbacks report may have"
    case .malformedJSON(let path, let reason):
      return "report `\(path)`: malformed JSON (expected a `callscope callbacks --format json` report): \(reason)"
    case .notACallbacksReport(let path, let reason):
      return "report `\(path)`: not a callscope/1 callbacks report: \(reason)"
    case .badRow(let path, let index, let member, let expected):
      return "report `\(path)`: callbacks[\(index)].\(member): expected \(expected)"
    }
  }
}
