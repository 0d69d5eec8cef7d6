// A reader for `llvm-readobj` text output (the independent oracle for headers, sections, exports
// and the debug directory): the indented `Name {` / `Key: Value` / `}` form becomes a tree of nodes.

import Foundation
import TestData

/// One `Name {` … `}` or `Name [` … `]` block of llvm-readobj's output.
final class ReadobjNode {
  let name: String
  /// Text after the bracket on the opening line, e.g. `(0x2026)` for `Characteristics [ (0x2026)`.
  let header: String
  var fields: [(key: String, value: String)] = []
  var children: [ReadobjNode] = []

  init(name: String, header: String) {
    self.name = name
    self.header = header
  }

  /// Parses the whole output into a root node.
  static func parse(_ text: String) -> ReadobjNode {
    let root = ReadobjNode(name: "<root>", header: "")
    var stack = [root]
    for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
      let line = raw.trimmingCharacters(in: .whitespaces)
      guard let current = stack.last else { break }
      if line == "}" || line == "]" {
        if stack.count > 1 { stack.removeLast() }
      } else if line.hasSuffix("{") || line.hasSuffix("[") || line.contains(" [ (") {
        let open = line.firstIndex(where: { $0 == "{" || $0 == "[" }) ?? line.endIndex
        let name = line[..<open].trimmingCharacters(in: .whitespaces)
        let header = line[open...].dropFirst().trimmingCharacters(in: .whitespaces)
        let node = ReadobjNode(name: name, header: header)
        current.children.append(node)
        stack.append(node)
      } else if let colon = line.range(of: ": ") ?? (line.hasSuffix(":") ? line.range(of: ":") : nil) {
        current.fields.append(
          (String(line[..<colon.lowerBound]), String(line[colon.upperBound...]).trimmingCharacters(in: .whitespaces)))
      }
    }
    return root
  }

  /// The first value of `key`.
  subscript(_ key: String) -> String? { fields.first { $0.key == key }?.value }

  /// The number in a value: `0x1A`, `26`, `… (0x1A)` or `( 0x1A )`.
  func number(_ key: String) -> UInt64? {
    guard let value = self[key] else { return nil }
    return Self.number(value)
  }

  static func number(_ value: String) -> UInt64? {
    if let open = value.lastIndex(of: "("), let close = value.lastIndex(of: ")"), open < close {
      let inner = value[value.index(after: open)..<close].trimmingCharacters(in: .whitespaces)
      if inner.hasPrefix("0x") { return UInt64(inner.dropFirst(2), radix: 16) }
    }
    if value.hasPrefix("0x") { return UInt64(value.dropFirst(2), radix: 16) }
    return UInt64(value)
  }

  /// Every descendant block named `name`, in output order.
  func all(_ name: String) -> [ReadobjNode] {
    children.flatMap { ($0.name == name ? [$0] : []) + $0.all(name) }
  }

  /// The first descendant block named `name`.
  func first(_ name: String) -> ReadobjNode? { all(name).first }
}

/// Runs llvm-readobj with `options` on `path` and parses its output.
func readobj(_ path: String, _ options: [String]) throws -> ReadobjNode {
  let result = try TestData.run(try TestData.which("llvm-readobj"), options + [path])
  guard result.status == 0 else { throw TestDataError.tool("llvm-readobj failed: \(result.stderr)") }
  return ReadobjNode.parse(result.stdout)
}

/// Bytes written as `(6A 55 11 …)` in llvm-readobj's output.
func readobjBytes(_ value: String) -> [UInt8] {
  value.filter { $0 != "(" && $0 != ")" }.split(separator: " ").compactMap { UInt8($0, radix: 16) }
}
