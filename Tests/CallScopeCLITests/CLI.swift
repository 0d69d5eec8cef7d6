// Runs the BUILT `callscope` binary (the executable beside this test bundle in .build/<config>; a test
// target cannot depend on an executable target, so `swift build` must run before `swift test`) and
// compares whole outputs with golden files under Golden/, rewritten only when UPDATE_GOLDEN=1.

import Foundation
import TestData
import Testing

enum CLI {
  /// Why the CLI tests cannot run.
  struct Missing: Error, CustomStringConvertible {
    var description: String
  }

  /// The `callscope` executable next to the test bundle (or in .build/debug of the package).
  static func binary() throws -> String { try binary(named: "callscope") }

  /// The executable `name` of this package next to the test bundle (or in .build/debug of the package).
  static func binary(named name: String) throws -> String { try TestData.builtExecutable(named: name) }

  /// Runs `callscope arguments`.
  static func run(_ arguments: [String]) throws -> TestData.ProcessResult {
    try TestData.run(try binary(), arguments)
  }

  /// The decompressed reference image `images/<name>.raw.xz`.
  static func image(_ name: String) throws -> String { try TestData.decompressed("images/\(name).raw.xz") }

  /// The truth file of a reference image.
  static func truth(_ name: String) throws -> [String: Any] {
    guard let truth = try TestData.json(TestData.shared("images/\(name).truth.json").path) as? [String: Any] else {
      throw Missing(description: "truth file of \(name) is not a JSON object")
    }
    return truth
  }

  static let goldenDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Golden")

  /// `text` with machine-specific paths replaced by placeholders (`IMAGE`, …).
  static func normalized(_ text: String, replacing paths: [String: String]) -> String {
    var out = text
    for (path, placeholder) in paths.sorted(by: { $0.key.count > $1.key.count }) {
      out = out.replacingOccurrences(of: path, with: placeholder)
    }
    return out
  }

  /// Compares `actual` with Golden/<name>; with UPDATE_GOLDEN=1 rewrites the file instead.
  static func expectGolden(_ actual: String, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let url = goldenDirectory.appendingPathComponent(name)
    if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
      try FileManager.default.createDirectory(at: goldenDirectory, withIntermediateDirectories: true)
      try Data(actual.utf8).write(to: url)
      return
    }
    guard let expected = try? String(contentsOf: url, encoding: .utf8) else {
      Issue.record("golden file \(name) missing; run with UPDATE_GOLDEN=1", sourceLocation: sourceLocation)
      return
    }
    if expected != actual {
      let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
      let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
      let first = zip(e, a).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(e.count, a.count)
      let want = first < e.count ? String(e[first]) : "<end>"
      let got = first < a.count ? String(a[first]) : "<end>"
      Issue.record(
        "\(name) differs at line \(first + 1):\n  golden: \(want)\n  actual: \(got)", sourceLocation: sourceLocation)
    }
  }

  /// Parses JSON text.
  static func json(_ text: String) throws -> Any { try JSONSerialization.jsonObject(with: Data(text.utf8)) }

  /// A number from a truth value written as `0x…` text or as a number.
  static func number(_ value: Any?) -> UInt64? {
    if let text = value as? String {
      return text.hasPrefix("0x") ? UInt64(text.dropFirst(2), radix: 16) : UInt64(text)
    }
    if let n = value as? NSNumber { return n.uint64Value }
    return nil
  }
}
