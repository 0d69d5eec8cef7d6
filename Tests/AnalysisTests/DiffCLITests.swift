// `callscope diff` run as the BUILT binary (`swift build` must run before `swift test`, as for
// Tests/CallScopeCLITests): saved report vs its image, an image vs itself, exit statuses, bad input.

import Foundation
import TestData
import Testing

@Suite(.serialized) struct DiffCLITests {
  /// The `callscope` executable next to the test bundle or in the package's .build/debug.
  static func binary() throws -> String { try TestData.builtExecutable() }

  static func run(_ arguments: [String]) throws -> TestData.ProcessResult { try TestData.run(try binary(), arguments) }

  /// The diff's JSON output, parsed.
  static func diffJSON(_ a: String, _ b: String) throws -> (status: Int32, top: [String: Any]) {
    let result = try run(["diff", "--offline", "--format", "json", "--fail-on-findings", a, b])
    let top = try JSONSerialization.jsonObject(with: result.stdoutData) as? [String: Any]
    return (result.status, try #require(top, "stdout: \(result.stdout) stderr: \(result.stderr)"))
  }

  static func counts(_ top: [String: Any]) -> [Int] {
    ["added", "removed", "changed"].map { (top[$0] as? [Any])?.count ?? -1 }
  }

  @Test func savedReportAgainstItsImageIsEmpty() throws {
    let image = try TestData.decompressed("images/win10-19041-rootkit.raw.xz")
    let report = try TestData.temporaryDirectory("diff-cli").appendingPathComponent("rootkit.json").path
    let saved = try Self.run(["callbacks", "--offline", "--format", "json", "--output", report, image])
    #expect(saved.status == 1 || saved.status == 0, "\(saved.stderr)")
    // The truth's callbacks minus the zeroed slot are what the report must hold.
    let truth = try Truth(path: TestData.shared("images/win10-19041-rootkit.truth.json").path)
    let savedTop = try #require(try TestData.json(report) as? [String: Any])
    let savedRows = try #require(savedTop["callbacks"] as? [[String: Any]])
    let planted = Set(truth.callbacks.filter { !$0.anomalies.contains("slot_zeroed_count_kept") }.map(\.function))
    #expect(planted.isSubset(of: Set(savedRows.compactMap { TestData.hex($0["routine"]) })))

    for (a, b) in [(report, image), (image, report)] {
      let (status, top) = try Self.diffJSON(a, b)
      #expect(status == 0)
      #expect(top["schema"] as? String == "callscope/1")
      #expect(Self.counts(top) == [0, 0, 0], "\(top)")
    }
  }

  @Test func imageAgainstItselfIsEmptyAndCleanToRootkitFails() throws {
    let clean = try TestData.decompressed("images/win10-19041-clean.raw.xz")
    let rootkit = try TestData.decompressed("images/win10-19041-rootkit.raw.xz")
    let same = try Self.run(["diff", "--offline", "--fail-on-findings", clean, clean])
    #expect(same.status == 0, "\(same.stderr)")
    #expect(same.stdout.contains("0 added, 0 removed, 0 changed"), "\(same.stdout)")

    let (status, top) = try Self.diffJSON(clean, rootkit)
    #expect(status == 1)
    let cleanTruth = try Truth(path: TestData.shared("images/win10-19041-clean.truth.json").path)
    let rootkitTruth = try Truth(path: TestData.shared("images/win10-19041-rootkit.truth.json").path)
    let baseline = try #require(top["baseline"] as? [String: Any])
    let current = try #require(top["current"] as? [String: Any])
    let cleanBase = TestData.hex((baseline["kernel"] as? [String: Any])?["base"])
    let rootkitBase = TestData.hex((current["kernel"] as? [String: Any])?["base"])
    // Truth's kernel bases are the KASLR bases; they differ, and the diff still has only the planted rows.
    #expect(cleanBase == cleanTruth.modules.first { $0.name == "ntoskrnl.exe" }?.base)
    #expect(rootkitBase == rootkitTruth.modules.first { $0.name == "ntoskrnl.exe" }?.base)
    #expect(cleanBase != rootkitBase)
    #expect(Self.counts(top) == [6, 1, 4], "\(top)")
  }

  @Test func malformedReportExitsTwo() throws {
    let dir = try TestData.temporaryDirectory("diff-cli")
    let bad = dir.appendingPathComponent("bad.json")
    try Data(#"{"schema": "callscope/1", "callbacks": [ {"family": "#.utf8).write(to: bad)
    let result = try Self.run(["diff", bad.path, bad.path])
    #expect(result.status == 2)
    #expect(result.stderr.contains("report `\(bad.path)`: malformed JSON"), "\(result.stderr)")
    #expect(result.stdout.isEmpty)
  }
}
