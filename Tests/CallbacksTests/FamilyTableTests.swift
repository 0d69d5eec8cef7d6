// The README's family table is generated from the descriptors (CallbackFamilyCatalog.markdownTable):
// this test fails when a descriptor changes and the README was not regenerated. Set
// CALLSCOPE_WRITE_FAMILY_TABLE=1 to rewrite the block between the markers.
// Also the descriptors' own consistency: unique ids, one reader per id, heads named once.

import Callbacks
import Foundation
import TestData
import Testing

@Suite struct FamilyTableTests {
  static let begin =
    "<!-- families:begin (generated from the family descriptors; see Tests/CallbacksTests/FamilyTableTests.swift) -->"
  static let end = "<!-- families:end -->"

  @Test func readmeTableIsTheDescriptors() throws {
    let url = TestData.packageRoot.appendingPathComponent("README.md")
    let readme = try String(contentsOf: url, encoding: .utf8)
    let start = try #require(readme.range(of: Self.begin), "README.md has no \(Self.begin) marker")
    let stop = try #require(readme.range(of: Self.end), "README.md has no \(Self.end) marker")
    let block = String(readme[start.upperBound..<stop.lowerBound])
    let table = "\n" + CallbackFamilyCatalog.markdownTable()
    if ProcessInfo.processInfo.environment["CALLSCOPE_WRITE_FAMILY_TABLE"] == "1", block != table {
      try (readme[..<start.upperBound] + table + readme[stop.lowerBound...]).write(
        to: url, atomically: true, encoding: .utf8)
      return
    }
    #expect(block == table, "README.md's family table is stale: rerun this test with CALLSCOPE_WRITE_FAMILY_TABLE=1")
  }

  @Test func idsAreUniqueAndEveryReaderServesItsID() {
    let ids = FamilyDescriptor.all.map(\.id)
    #expect(Set(ids).count == ids.count)
    for d in FamilyDescriptor.all {
      #expect(d.reader.ids.contains(d.id), "\(d.id)'s reader serves \(d.reader.ids)")
      #expect(!d.heads.isEmpty, "\(d.id) has no head")
      #expect(!d.title.isEmpty && !d.registration.isEmpty, "\(d.id) undescribed")
    }
    #expect(CallbackScanner.familyIDs == ids)
  }

  @Test func everyRuleIDIsDeclaredOnce() {
    let ids = FamilyDescriptor.all.flatMap(\.rules).map(\.rawValue)
    #expect(Set(ids).count == ids.count)
  }
}
