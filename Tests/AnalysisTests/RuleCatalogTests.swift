// Every flag id a report can carry is a Rule with its explanation and severity, and the README's
// flag table lists each Rule once, with the same severity and meaning.

import Analysis
import Callbacks
import Foundation
import TestData
import Testing

struct RuleCatalogTests {
  /// The rows of README.md's flag table: `| \`id\` | severity | meaning |`.
  static func readmeFlagRows() throws -> [(id: String, severity: String, meaning: String)] {
    let readme = try String(contentsOf: TestData.packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
    return readme.split(separator: "\n").compactMap { line in
      let cells = line.split(separator: "|", omittingEmptySubsequences: false).map {
        $0.trimmingCharacters(in: .whitespaces)
      }
      guard cells.count == 5, cells[1].hasPrefix("`"), cells[1].hasSuffix("`") else { return nil }
      return (String(cells[1].dropFirst().dropLast()), cells[2], cells[3])
    }
  }

  @Test func readmeTableListsEveryRuleOnceWithItsSeverityAndMeaning() throws {
    let rows = try Self.readmeFlagRows()
    #expect(rows.map(\.id).count == Set(rows.map(\.id)).count, "a flag is listed twice: \(rows.map(\.id))")
    #expect(Set(rows.map(\.id)) == Set(Rule.allCases.map(\.rawValue)))
    for row in rows {
      let rule = try #require(Rule(rawValue: row.id), "README lists \(row.id), which is no Rule")
      #expect(row.severity == rule.severity.rawValue, "\(row.id)")
      #expect(row.meaning == rule.explanation, "\(row.id)")
    }
  }

  @Test func recordRulesComeFromTheRecordsDetails() {
    func entry(_ family: String, _ details: [(String, DetailValue)]) -> CallbackEntry {
      CallbackEntry(
        family: family, head: 0x1000, headSymbol: "H", index: 0, routine: 0x2000, details: details, provenance: .pdb)
    }
    #expect(CallbackVerdicts.recordRules(entry("object-process", [("enabled", .bool(false))])) == [.disabled])
    #expect(CallbackVerdicts.recordRules(entry("object-process", [("enabled", .bool(true))])).isEmpty)
    #expect(
      CallbackVerdicts.recordRules(
        entry("object-thread", [("enabled", .bool(true)), ("supportsObjectCallbacks", .bool(false))]))
        == [.callbacksUnsupported])
    #expect(
      CallbackVerdicts.recordRules(entry("registry", [("carve", .string("orphaned")), ("linked", .bool(false))]))
        == [.orphaned])
    // `enabled` means Enabled = 0 only for object callbacks.
    #expect(CallbackVerdicts.recordRules(entry("power-setting", [("enabled", .bool(false))])).isEmpty)
  }
}
