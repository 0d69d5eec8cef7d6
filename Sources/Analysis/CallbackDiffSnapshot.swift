// One side of `callscope diff`: the callbacks of a memory image, or of a saved
// `callscope callbacks --format json` report (schema `callscope/1`, DESIGN.md "JSON output").
// Reports are recognised by content: the first non-blank byte is `{`.

import BinaryReading
import Foundation

/// The callbacks of one system, with enough about where they came from to label the diff.
public struct CallbackSnapshot: Sendable {
  /// Whether the snapshot was read from a memory image or from a saved report.
  public enum Source: String, Sendable { case image, report }

  public var path: String
  public var source: Source
  /// The image file the callbacks were read from (for a report: its `image.path`).
  public var imagePath: String?
  public var imageFormat: String?
  public var kernelBase: UInt64?
  public var build: String?
  public var rows: [CallbackDiffRow]

  public init(
    path: String, source: Source, imagePath: String?, imageFormat: String?, kernelBase: UInt64?, build: String?,
    rows: [CallbackDiffRow]
  ) {
    self.path = path
    self.source = source
    self.imagePath = imagePath
    self.imageFormat = imageFormat
    self.kernelBase = kernelBase
    self.build = build
    self.rows = rows
  }

  /// A saved report is at most this large (a report of thousands of callbacks is a few MiB).
  public static let reportSizeLimit: UInt64 = 256 << 20

  /// Whether `path` holds a JSON report rather than a memory image (its first non-blank byte is `{`).
  public static func isReport(path: String) throws(CallbackDiffError) -> Bool {
    let file: MappedFile
    do { file = try MappedFile(path: path) } catch { throw .unreadable(path: path, reason: error.description) }
    let count = Int(min(file.size, 64))
    guard count > 0, let head = try? file.readBytes(at: 0, count: count) else { return false }
    let blank: Set<UInt8> = [0x20, 0x09, 0x0a, 0x0d, 0xef, 0xbb, 0xbf]  // JSON whitespace, UTF-8 BOM
    return head.first { !blank.contains($0) } == UInt8(ascii: "{")
  }

  /// Reads a saved callbacks report (memory-mapped, parsed once).
  public init(reportAt path: String) throws(CallbackDiffError) {
    let file: MappedFile
    do { file = try MappedFile(path: path) } catch { throw .unreadable(path: path, reason: error.description) }
    guard file.size <= Self.reportSizeLimit else {
      throw .tooLarge(path: path, size: file.size, limit: Self.reportSizeLimit)
    }
    let top: JSONNode
    do {
      // The size is at most reportSizeLimit, so it fits in Int.
      top = try file.withBytes(at: 0, count: Int(file.size)) { buffer in
        guard let base = buffer.baseAddress else { throw CallbackDiffError.malformedJSON(path: path, reason: "empty") }
        let data = Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: base), count: buffer.count, deallocator: .none)
        do {
          return try JSONDecoder().decode(JSONNode.self, from: data)
        } catch let error as DecodingError {
          throw CallbackDiffError.malformedJSON(path: path, reason: Self.describe(error, data: data))
        }
      }
    } catch let error as CallbackDiffError {
      throw error
    } catch {
      throw .malformedJSON(path: path, reason: String(describing: error))
    }
    try self.init(report: top, path: path)
  }

  /// A report already parsed.
  init(report top: JSONNode, path: String) throws(CallbackDiffError) {
    guard case .object(let members) = top else {
      throw .notACallbacksReport(path: path, reason: "the top level is not an object")
    }
    guard case .string(let schema)? = members["schema"] else {
      throw .notACallbacksReport(path: path, reason: "no \"schema\" member")
    }
    guard schema == "callscope/1" else {
      throw .notACallbacksReport(path: path, reason: "schema is \"\(schema)\", expected \"callscope/1\"")
    }
    guard case .array(let callbacks)? = members["callbacks"] else {
      throw .notACallbacksReport(path: path, reason: "no \"callbacks\" array (not the output of `callscope callbacks`)")
    }
    var rows: [CallbackDiffRow] = []
    rows.reserveCapacity(callbacks.count)
    for (i, node) in callbacks.enumerated() { rows.append(try Self.row(node, index: i, path: path)) }
    let image = members["image"]?.members ?? [:]
    let kernel = members["kernel"]?.members ?? [:]
    self.init(
      path: path, source: .report, imagePath: image["path"]?.string, imageFormat: image["format"]?.string,
      kernelBase: kernel["base"]?.string.flatMap(Hex.parse), build: kernel["build"]?.string, rows: rows)
  }

  /// One `callbacks[]` row.
  static func row(_ node: JSONNode, index i: Int, path: String) throws(CallbackDiffError) -> CallbackDiffRow {
    guard let m = node.members else { throw .badRow(path: path, index: i, member: "", expected: "an object") }
    guard let family = m["family"]?.string else {
      throw .badRow(path: path, index: i, member: "family", expected: "a string")
    }
    guard let routine = m["routine"]?.string.flatMap(Hex.parse) else {
      throw .badRow(path: path, index: i, member: "routine", expected: "an address string \"0x…\"")
    }
    var index: Int?
    switch m["index"] {
    case .number(let n)?:
      guard let value = Int(exactly: n) else {
        throw .badRow(path: path, index: i, member: "index", expected: "an integer")
      }
      index = value
    case .null?, nil: index = nil
    default: throw .badRow(path: path, index: i, member: "index", expected: "an integer or null")
    }
    let module = m["module"]?.string
    var offset: UInt64?
    if module != nil {
      guard let value = m["offset"]?.string.flatMap(Hex.parse) else {
        throw .badRow(path: path, index: i, member: "offset", expected: "an address string \"0x…\" beside a module")
      }
      offset = value
    }
    var flags: [String] = []
    if case .array(let items)? = m["flags"] {
      for item in items {
        guard let flag = item.string else { throw .badRow(path: path, index: i, member: "flags", expected: "strings") }
        flags.append(flag)
      }
    }
    var details: [String: DiffValue] = [:]
    for (key, value) in m["details"]?.members ?? [:] {
      switch value {
      case .string(let s): details[key] = .text(s)
      case .number(let n): details[key] = .number(n)
      case .bool(let b): details[key] = .bool(b)
      case .null: details[key] = .null
      case .array, .object, .fraction:
        throw .badRow(path: path, index: i, member: "details.\(key)", expected: "a string, integer, boolean or null")
      }
    }
    return CallbackDiffRow(
      family: family, index: index, routine: routine, module: module, offset: offset, symbol: m["symbol"]?.string,
      flags: flags, details: details)
  }

  /// Where the text stops being JSON: Foundation's JSONSerialization names the character offset
  /// ("Invalid value around character 11."), which JSONDecoder does not.
  static func describe(_ error: DecodingError, data: Data) -> String {
    do {
      _ = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
    } catch {
      if let detail = (error as NSError).userInfo["NSDebugDescription"] as? String { return detail }
    }
    switch error {
    case .dataCorrupted(let context), .typeMismatch(_, let context), .valueNotFound(_, let context),
      .keyNotFound(_, let context):
      return context.debugDescription
    @unknown default: return String(describing: error)
    }
  }
}

/// A parsed JSON value (object keys unordered; integers apart from fractions).
enum JSONNode: Decodable, Sendable {
  case null
  case bool(Bool)
  case number(Int64)
  case fraction(Double)
  case string(String)
  case array([JSONNode])
  case object([String: JSONNode])

  init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    if container.decodeNil() {
      self = .null
    } else if let b = try? container.decode(Bool.self) {
      self = .bool(b)
    } else if let n = try? container.decode(Int64.self) {
      self = .number(n)
    } else if let d = try? container.decode(Double.self) {
      self = .fraction(d)
    } else if let s = try? container.decode(String.self) {
      self = .string(s)
    } else if let a = try? container.decode([JSONNode].self) {
      self = .array(a)
    } else {
      self = .object(try container.decode([String: JSONNode].self))
    }
  }

  var string: String? {
    if case .string(let s) = self { return s }
    return nil
  }

  var members: [String: JSONNode]? {
    if case .object(let m) = self { return m }
    return nil
  }
}
