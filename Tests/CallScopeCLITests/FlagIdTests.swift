// Every flag id the reports emit on the reference images (callbacks with carving, kct) is one of
// the README flag table's ids (which AnalysisTests' RuleCatalogTests holds equal to Analysis's Rules).

import Foundation
import TestData
import Testing

struct FlagIdTests {
  static func readmeFlagIds() throws -> Set<String> {
    let readme = try String(contentsOf: TestData.packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
    return Set(
      readme.split(separator: "\n").compactMap { line -> String? in
        let cells = line.split(separator: "|", omittingEmptySubsequences: false).map {
          $0.trimmingCharacters(in: .whitespaces)
        }
        guard cells.count == 5, cells[1].hasPrefix("`"), cells[1].hasSuffix("`") else { return nil }
        return String(cells[1].dropFirst().dropLast())
      })
  }

  /// Every `flags` array anywhere in `json`.
  static func flags(in json: Any) -> [String] {
    if let object = json as? [String: Any] {
      return object.flatMap { key, value in key == "flags" ? (value as? [String] ?? []) : flags(in: value) }
    }
    if let array = json as? [Any] { return array.flatMap { flags(in: $0) } }
    return []
  }

  @Test(arguments: ["win10-19041-rootkit", "win10-19041-kct-hijack"])
  func emittedFlagsAreDocumentedRules(name: String) throws {
    let known = try Self.readmeFlagIds()
    #expect(known.count >= 15)
    let image = try CLI.image(name)
    var emitted: Set<String> = []
    for arguments in [["callbacks", "--carve"], ["kct"]] {
      let result = try CLI.run(arguments + ["--offline", "--format", "json", image])
      try #require(result.status == 0, "\(arguments): \(result.stderr)")
      emitted.formUnion(Self.flags(in: try CLI.json(result.stdout)))
    }
    #expect(!emitted.isEmpty, "no flags on \(name)")
    #expect(emitted.subtracting(known).isEmpty, "undocumented flags: \(emitted.subtracting(known).sorted())")
  }
}
