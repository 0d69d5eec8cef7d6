// `kct --map` without user32.pdb on the shared images: the slots are named from the bundled table of
// the build (19041), labelled bundled-names in JSON and table output, and the name of slot 0 is the
// truth's (`kct_differs[0].name`, the routine the hijack replaced); the table's length against the
// bundled one is reported as a warning.

import Foundation
import TestData
import Testing

@Suite struct KCTNamesCLITests {
  @Test(arguments: ["win10-19041-kct-hijack", "win10-19041-clean"])
  func mapWithoutPDBUsesTheBundledNames(_ name: String) throws {
    let image = try CLI.image(name)
    let hijackTruth = try CLI.truth("win10-19041-kct-hijack")
    let truth = try CLI.truth(name)
    let user32 = try #require(truth["user32"] as? [String: Any])
    let notepad = try #require(
      (hijackTruth["processes"] as? [[String: Any]])?.first { $0["name"] as? String == "notepad.exe" })
    let slot0 = try #require((notepad["kct_differs"] as? [[String: Any]])?.first)
    #expect(slot0["slot"] as? Int == 0)

    let result = try CLI.run(["kct", image, "--map", "--offline", "--format", "json"])
    #expect(result.status == 0, "\(result.stderr)")
    let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    #expect(json["nameSource"] as? String == "bundled-names")
    #expect(json["bundledTable"] as? String == "win10-19041")
    #expect(json["table"] as? String == user32["apfnDispatch"] as? String)
    let map = try #require(json["map"] as? [[String: Any]])
    #expect(map.count == user32["entries"] as? Int)
    #expect(map.first?["name"] as? String == slot0["name"] as? String)
    #expect(map.allSatisfy { $0["nameSource"] as? String == "bundled-names" && $0["name"] is String })
    let warnings = try #require(json["warnings"] as? [String])
    #expect(warnings.contains { $0.contains("has \(map.count) slots") && $0.contains("lists 128") }, "\(warnings)")

    let table = try CLI.run(["kct", image, "--map", "--offline"])
    #expect(table.status == 0)
    let row0 = table.stdout.split(separator: "\n").first { $0.hasPrefix("0 ") }
    #expect(row0?.contains("__fnCOPYDATA") == true && row0?.contains("bundled-names") == true, "\(table.stdout)")
    #expect(table.stdout.contains("warning: user32's apfnDispatch has \(map.count) slots"))
  }
}
