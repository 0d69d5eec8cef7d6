// Operation without a matching symbol file, against data CallScope did not write:
// - the varied-unknown image (a kernel whose PDB GUID no symbol table has, with export code in
//   realistic shapes): every callback, process and module of its truth; every head its truth says
//   an export reaches located at the truth's address; nothing labelled `bundled`;
// - every reference image with --no-symbols: the same rows as with the bundled profile;
// - `symbols verify` on the reference images: each located address equals the ISF file's.

import Foundation
import TestData
import Testing

@Suite struct SymbolLessTests {
  static let varied = "win10-19041-clean-varied-unknown"
  static let references = [
    "win10-19041-clean", "win10-19041-rootkit", "win10-19041-kct-hijack", "win10-19041-corrupt-proc-loop",
    "win10-19041-corrupt-reg-dangling",
  ]

  static func json(_ arguments: [String]) throws -> [String: Any] {
    let result = try CLI.run(arguments)
    #expect(result.status == 0, "\(arguments): \(result.stderr)")
    return try #require(try CLI.json(result.stdout) as? [String: Any])
  }

  static func hex(_ value: UInt64?) -> String { value.map { "0x" + String($0, radix: 16) } ?? "?" }

  @Test func unknownKernelReportsEveryTruthCallbackOffline() throws {
    let image = try CLI.image(Self.varied)
    let truth = try CLI.truth(Self.varied)
    let pdb = try #require(truth["ntoskrnl_pdb"] as? [String: Any])
    #expect(pdb["bundled"] as? Bool == false)
    let report = try Self.json(["callbacks", "--offline", "--format", "json", image])
    let kernel = try #require(report["kernel"] as? [String: Any])
    #expect((kernel["pdb"] as? [String: Any])?["guid"] as? String == pdb["guid"] as? String)
    let rows = try #require(report["callbacks"] as? [[String: Any]])
    let reported = Set(rows.map { "\($0["family"] ?? "") \($0["routine"] ?? "") \($0["module"] as? String ?? "-")" })
    let truthRows = try #require(truth["callbacks"] as? [[String: Any]])
    let chains = try #require(truth["code_chains"] as? [String: Any])
    let unreachable = Set(
      (chains["unreachable"] as? [[String: Any]] ?? []).flatMap { $0["families"] as? [String] ?? [] })
    var expected: Set<String> = []
    for row in truthRows {
      let line =
        "\(row["callscope_family"] ?? "") \(Self.hex(CLI.number(row["function"]))) \(row["module"] as? String ?? "-")"
      expected.insert(line)
      // A family whose head no export reaches may be found otherwise (CI's table by its content).
      if !unreachable.contains(row["callscope_family"] as? String ?? "") { #expect(reported.contains(line), "\(line)") }
    }
    #expect(reported.isSubset(of: expected), "\(reported.subtracting(expected).sorted())")
    #expect(rows.allSatisfy { $0["provenance"] as? String != "bundled" })
    #expect(rows.allSatisfy { ($0["flags"] as? [String])?.isEmpty ?? false })
    // notLocated: only families with no truth callback, or whose head the truth says no export reaches.
    let truthFamilies = Set(truthRows.compactMap { $0["callscope_family"] as? String })
    for entry in report["notLocated"] as? [[String: Any]] ?? [] {
      let family = entry["family"] as? String ?? "?"
      #expect(!truthFamilies.contains(family) || unreachable.contains(family), "\(family)")
      #expect(!(entry["reason"] as? String ?? "").isEmpty)
    }
  }

  @Test func everyReachableHeadIsLocatedAtTheTruthAddress() throws {
    let image = try CLI.image(Self.varied)
    let chains = try #require(try CLI.truth(Self.varied)["code_chains"] as? [String: Any])
    let heads = try #require(chains["heads"] as? [String: [String: Any]])
    let report = try Self.json(["callbacks", "--offline", "--format", "json", image])
    let located = try #require((report["locatedSymbols"] as? [String: Any])?["located"] as? [[String: Any]])
    var byName: [String: [String: Any]] = [:]
    for entry in located { if let name = entry["symbol"] as? String { byName[name] = entry } }
    var checked = 0
    for (name, head) in heads where head["reachable"] as? Bool == true {
      let entry = try #require(byName[name], "\(name) not located")
      #expect(CLI.number(entry["address"]) == CLI.number(head["va"]), "\(name)")
      let evidence = entry["evidence"] as? [String] ?? []
      #expect(!evidence.isEmpty, "\(name)")
      // The chain starts at one of the truth's exports for this head (exported data: the export table).
      let exports = (head["chains"] as? [[String: Any]] ?? []).compactMap { $0["export"] as? String }
      let provenance = entry["provenance"] as? String
      if provenance == "pattern", !exports.isEmpty {
        #expect(exports.contains { e in evidence.first?.contains("export \(e) ") ?? false }, "\(name): \(evidence)")
      }
      checked += 1
    }
    #expect(checked >= 35)
  }

  @Test func unknownKernelListsTruthProcessesAndModules() throws {
    let image = try CLI.image(Self.varied)
    let truth = try CLI.truth(Self.varied)
    let processes = try #require(
      try Self.json(["processes", "--offline", "--format", "json", image])["processes"] as? [[String: Any]])
    let truthProcesses = try #require(truth["processes"] as? [[String: Any]])
    #expect(
      Set(processes.compactMap { p in (p["pid"] as? Int).map { "\($0) \(p["name"] ?? "")" } })
        == Set(truthProcesses.compactMap { p in (p["pid"] as? Int).map { "\($0) \(p["name"] ?? "")" } }))
    let modules = try #require(
      try Self.json(["modules", "--offline", "--format", "json", image])["modules"] as? [[String: Any]])
    let truthModules = try #require(truth["modules"] as? [[String: Any]])
    #expect(
      Set(modules.compactMap { m in (m["name"] as? String).map { "\($0) \(CLI.number(m["base"]) ?? 0)" } })
        == Set(truthModules.compactMap { m in (m["name"] as? String).map { "\($0) \(CLI.number(m["base"]) ?? 0)" } }))
  }

  @Test(arguments: references) func noSymbolsGivesTheBundledRows(name: String) throws {
    let image = try CLI.image(name)
    func rows(_ extra: [String]) throws -> Set<String> {
      let report = try Self.json(["callbacks", "--offline", "--format", "json"] + extra + [image])
      return Set(
        (report["callbacks"] as? [[String: Any]] ?? []).map { r in
          "\(r["family"] ?? "") \(r["index"] ?? "-") \(r["routine"] ?? "") \(r["module"] ?? "-") \(r["flags"] ?? "")"
        })
    }
    let bundled = try rows([])
    let located = try rows(["--no-symbols"])
    #expect(bundled.count == (try CLI.truth(name)["callbacks"] as? [Any])?.count ?? -1 || name.contains("rootkit"))
    #expect(
      located == bundled,
      "missing \(bundled.subtracting(located).sorted()), extra \(located.subtracting(bundled).sorted())")
  }

  @Test(arguments: references) func symbolsVerifyAgreesWithTheSymbolTable(name: String) throws {
    // The ISF file of the build (not the bundled subset) is the oracle.
    let isf = TestData.shared("data/isf/ntkrnlmp.pdb/3177D31000BA7590DED335936C93E374-1.json.xz").path
    let dir = try TestData.temporaryDirectory("verify-\(name)")
    defer { try? FileManager.default.removeItem(at: dir) }
    let copy = dir.appendingPathComponent("3177D31000BA7590DED335936C93E374-1.json.xz").path
    try FileManager.default.copyItem(atPath: isf, toPath: copy)
    let result = try CLI.run([
      "symbols", "verify", "--offline", "--symbols", copy, "--format", "json", try CLI.image(name),
    ])
    #expect(result.status == 0, "\(result.stdout.suffix(3000)) \(result.stderr)")
    let report = try #require(try CLI.json(result.stdout) as? [String: Any])
    let symbols = try #require(report["symbols"] as? [[String: Any]])
    #expect(symbols.count >= 45)
    #expect(report["disagreements"] as? Int == 0)
    for s in symbols {
      #expect(s["profile"] is String, "\(s["symbol"] ?? "?") has no ISF address")
      #expect(s["agrees"] as? Bool == true, "\(s["symbol"] ?? "?")")
    }
  }
}
