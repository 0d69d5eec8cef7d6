// Whole outputs of `info` and `callbacks` on the reference images: every value of `info` is derived
// from the images' truth files (written independently of CallScope); the `callbacks` golden is
// checked against the truth row by row (routine, owner, symbol) before it is compared.

import Foundation
import TestData
import Testing

struct GoldenOutputTests {
  static let images = [
    "win10-19041-clean", "win10-19041-rootkit", "win10-19041-kct-hijack", "win10-19041-corrupt-proc-loop",
    "win10-19041-corrupt-reg-dangling",
  ]

  @Test(arguments: images) func infoJSONMatchesTruthAndGolden(name: String) throws {
    let path = try CLI.image(name)
    let result = try CLI.run(["info", "--format", "json", path])
    #expect(result.status == 0, "\(result.stderr)")
    let truth = try CLI.truth(name)
    let json = try #require(try CLI.json(result.stdout) as? [String: Any])
    let kernel = try #require(json["kernel"] as? [String: Any])
    #expect(CLI.number(kernel["base"]) == CLI.number(truth["kernel_base"]))
    #expect(CLI.number(kernel["dtb"]) == CLI.number(truth["dtb"]))
    #expect(kernel["arch"] as? String == "x64")
    #expect(kernel["paging"] as? String == "x64-4level")
    let pdb = try #require(kernel["pdb"] as? [String: Any])
    let truePDB = try #require(truth["pdb"] as? [String: Any])
    #expect(pdb["guid"] as? String == truePDB["GUID"] as? String)
    #expect(pdb["age"] as? Int == truePDB["age"] as? Int)
    #expect(pdb["name"] as? String == truePDB["name"] as? String)
    let build = try #require(kernel["build"] as? String)
    #expect((truth["build"] as? String)?.hasPrefix(build) == true, "build \(build)")
    let pe = truth["nt_pe"] as? [String: Any]
    #expect(CLI.number(json["kernelSize"]) == CLI.number(pe?["size_of_image"]))
    let image = try #require(json["image"] as? [String: Any])
    #expect(image["size"] as? Int == (truth["image"] as? [String: Any])?["size"] as? Int)
    // Every other key is pinned from the truth or from what the command was given, never from a copy
    // of an earlier output (the images are regenerated from time to time; their truth moves with them).
    #expect(json["schema"] as? String == "callscope/1")
    #expect(Set(json.keys) == Self.infoKeys, "\(json.keys.sorted())")
    #expect(Set(kernel.keys) == ["base", "dtb", "arch", "paging", "pdb", "build", "symbolSource"])
    #expect(kernel["symbolSource"] as? String == "bundled")
    let symbols = try #require(json["symbols"] as? [String: Any])
    #expect(symbols["layouts"] as? String == "bundled" && symbols["addresses"] as? String == "bundled")
    #expect(image["path"] as? String == path)
    #expect(image["format"] as? String == "raw")
    #expect(json["pdbPath"] as? String == truePDB["name"] as? String)
    #expect(json["synthetic"] as? Bool == false)
    #expect((json["notLocated"] as? [Any])?.isEmpty == true)
    #expect((json["warnings"] as? [Any])?.isEmpty == true)
    #expect(json["pagingSource"] as? String == "inferred")
    // The DTB's evidence names the truth's DTB and the PML4 self-reference index.
    let dtbSource = try #require(json["dtbSource"] as? String)
    let dtb = try #require(CLI.number(truth["dtb"]))
    let selfRef = try #require(CLI.number(truth["pml4_self_ref_index"]))
    #expect(dtbSource.contains("Cr3 0x" + String(dtb, radix: 16)), "\(dtbSource)")
    #expect(dtbSource.contains("self-reference at index 0x" + String(selfRef, radix: 16)), "\(dtbSource)")
  }

  static let infoKeys: Set<String> = [
    "schema", "image", "kernel", "dtbSource", "pagingSource", "kernelSize", "pdbPath", "synthetic", "symbols",
    "notLocated", "warnings",
  ]

  @Test func callbacksJSONOnCleanImageMatchesTruthCountsAndGolden() throws {
    let name = "win10-19041-clean"
    let path = try CLI.image(name)
    let result = try CLI.run(["callbacks", "--format", "json", "--offline", path])
    #expect(result.status == 0, "\(result.stderr)")
    let json = try #require(try CLI.json(result.stdout) as? [String: Any])
    #expect(json["schema"] as? String == "callscope/1")
    let rows = try #require(json["callbacks"] as? [[String: Any]])
    var counts: [String: Int] = [:]
    for row in rows { counts[row["family"] as? String ?? "?", default: 0] += 1 }
    let truth = try #require(try CLI.truth(name)["callbacks"] as? [[String: Any]])
    var expected: [String: Int] = [:]
    for row in truth { expected[row["callscope_family"] as? String ?? "?", default: 0] += 1 }
    #expect(counts == expected)
    #expect(rows.count == truth.count)
    // Each truth routine is reported with its truth module.
    let reported = Set(
      rows.compactMap { row in (row["routine"] as? String).map { "\($0) \(row["module"] as? String ?? "-")" } })
    for row in truth {
      let routine = CLI.number(row["function"]).map { "0x" + String($0, radix: 16) } ?? "?"
      #expect(reported.contains("\(routine) \(row["module"] as? String ?? "-")"), "\(routine)")
    }
    // No full symbol table was given and no driver of the image has a PDB (truth `fn_symbols` are for
    // reading only), so no row may carry a symbol name; offsets are the truth's module offsets.
    let truthOffsets = Set(
      truth.compactMap { row in
        CLI.number(row["module_offset"]).map { "\(row["module"] as? String ?? "-")+0x" + String($0, radix: 16) }
      })
    for row in rows {
      #expect(row["symbol"] is NSNull, "\(row["routine"] ?? "?")")
      if let module = row["module"] as? String, let offset = row["offset"] as? String {
        #expect(truthOffsets.contains("\(module)+\(offset)"), "\(module)+\(offset)")
      }
    }
    // The clean image has no flagged rows.
    #expect(rows.allSatisfy { ($0["flags"] as? [String])?.isEmpty ?? false })
    try CLI.expectGolden(CLI.normalized(result.stdout, replacing: [path: "IMAGE"]), "callbacks-\(name).json")
  }
}
