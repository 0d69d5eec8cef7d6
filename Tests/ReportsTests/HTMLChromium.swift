// Test support: renders HTML pages in a real headless Chromium (Debian's `chromium`, installed by
// scripts/install-test-deps; a missing browser is a failure, never a skip) and runs the built `callscope`
// binary to make the rootkit image's page. Also small helpers to read rows out of a dumped DOM.

import Foundation
import TestData
import Testing

enum Chromium {
  /// Why a browser run failed.
  struct Failure: Error, CustomStringConvertible {
    var description: String
  }

  /// Runs headless Chromium with `arguments` then `url`, with a private profile and a time limit.
  static func run(_ arguments: [String], url: String) throws -> TestData.ProcessResult {
    let chromium = try TestData.which("chromium")
    let profile = try TestData.temporaryDirectory("chromium-profile")
    defer { try? FileManager.default.removeItem(at: profile) }
    let result = try TestData.run(
      "timeout",
      [
        "90", chromium, "--headless", "--disable-gpu", "--no-sandbox", "--disable-dev-shm-usage", "--no-first-run",
        "--user-data-dir=\(profile.path)",
      ] + arguments + [url])
    guard result.status == 0 else {
      throw Failure(description: "chromium exited \(result.status) on \(url): \(result.stderr.suffix(2000))")
    }
    return result
  }

  /// The DOM after the page's scripts ran (`--dump-dom`).
  static func dumpDOM(_ url: String) throws -> String {
    try run(["--dump-dom"], url: url).stdout
  }

  /// Saves a 1400×2000 screenshot of `url` to `output` (PNG).
  static func screenshot(_ url: String, to output: URL) throws {
    try FileManager.default.createDirectory(
      at: output.deletingLastPathComponent(), withIntermediateDirectories: true)
    try? FileManager.default.removeItem(at: output)
    _ = try run(["--screenshot=\(output.path)", "--window-size=1400,2000", "--hide-scrollbars"], url: url)
  }

  /// A `file://` URL with an optional fragment.
  static func url(_ path: String, fragment: String? = nil) -> String {
    URL(fileURLWithPath: path).absoluteString + (fragment.map { "#" + $0 } ?? "")
  }
}

/// A row of the page's table as the browser left it.
struct DOMRow: Equatable {
  var family: String
  var routine: UInt64
  var flags: [String]
  var module: String
  var hidden: Bool
  var text: String
}

enum DOM {
  /// The `<tr class="row…">` elements inside the table with `id`, in document order.
  static func rows(_ dom: String, table id: String) throws -> [DOMRow] {
    guard let start = dom.range(of: "id=\"\(id)\""),
      let end = dom.range(of: "</table>", range: start.upperBound..<dom.endIndex)
    else { throw Chromium.Failure(description: "table #\(id) not found in the DOM") }
    let table = String(dom[start.upperBound..<end.lowerBound])
    var rows: [DOMRow] = []
    for chunk in table.components(separatedBy: "<tr ").dropFirst() {
      guard let close = chunk.firstIndex(of: ">") else { continue }
      let tag = String(chunk[..<close])
      guard attribute("class", in: tag)?.split(separator: " ").contains("row") == true else { continue }
      let routineText = attribute("data-routine", in: tag) ?? ""
      guard let routine = TestData.hex(routineText) else {
        throw Chromium.Failure(description: "row without a routine: <tr \(tag)>")
      }
      let body = chunk[chunk.index(after: close)...].replacingOccurrences(
        of: "<[^>]*>", with: "", options: .regularExpression)
      rows.append(
        DOMRow(
          family: attribute("data-family", in: tag) ?? "", routine: routine,
          flags: (attribute("data-flags", in: tag) ?? "").split(separator: ",").map(String.init),
          module: attribute("data-module", in: tag) ?? "",
          hidden: tag.range(of: #"(^|\s)hidden(=""|\s|$)"#, options: .regularExpression) != nil,
          text: decodeEntities(body)))
    }
    return rows
  }

  /// The value of a double-quoted attribute in a start tag, entities decoded.
  static func attribute(_ name: String, in tag: String) -> String? {
    guard let r = tag.range(of: "(^|\\s)\(name)=\"[^\"]*\"", options: .regularExpression) else { return nil }
    let text = tag[r]
    guard let q = text.firstIndex(of: "\"") else { return nil }
    return decodeEntities(String(text[text.index(after: q)...].dropLast()))
  }

  /// Decodes the entities a serialised DOM uses.
  static func decodeEntities(_ text: String) -> String {
    text.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
      .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'")
      .replacingOccurrences(of: "&nbsp;", with: "\u{a0}").replacingOccurrences(of: "&amp;", with: "&")
  }

  /// How often `needle` occurs in `text`.
  static func count(_ needle: String, in text: String) -> Int {
    text.components(separatedBy: needle).count - 1
  }
}

enum CallScopeBinary {
  /// The built `callscope` executable (a test target cannot depend on an executable target, so
  /// `swift build` must run before `swift test`).
  static func path() throws -> String {
    var candidates = [Bundle.main.bundleURL.appendingPathComponent("callscope")]
    candidates.append(Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("callscope"))
    if let argument = CommandLine.arguments.first {
      let executable = URL(fileURLWithPath: argument).resolvingSymlinksInPath()
      candidates.append(executable.deletingLastPathComponent().appendingPathComponent("callscope"))
    }
    candidates.append(TestData.packageRoot.appendingPathComponent(".build/debug/callscope"))
    for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate.path) {
      return candidate.path
    }
    throw Chromium.Failure(description: "callscope binary not found; run `swift build` before `swift test`")
  }
}
