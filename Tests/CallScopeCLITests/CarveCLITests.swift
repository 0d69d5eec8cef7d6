// `--carve --jobs N` as a user runs it: the whole output is the same for one and two jobs on the
// reference images, and it names the rootkit's unlinked driver and zeroed-slot block (truth).

import Foundation
import TestData
import Testing

@Suite struct CarveCLITests {
  @Test(arguments: ["win10-19041-clean", "win10-19041-rootkit"])
  func outputIsTheSameForOneAndTwoJobs(_ name: String) throws {
    let image = try CLI.image(name)
    for command in ["callbacks", "modules"] {
      let one = try CLI.run([command, image, "--offline", "--carve", "--jobs", "1", "--format", "json"])
      let two = try CLI.run([command, image, "--offline", "--carve", "--jobs", "2", "--format", "json"])
      #expect(one.status == 0, "\(one.stderr)")
      #expect(one.stdout == two.stdout, "\(command) \(name)")
      #expect(one.stderr.isEmpty, "progress must stay off stderr when it is not a terminal")
    }
  }

  @Test func rootkitCarveNamesTheTruth() throws {
    let image = try CLI.image("win10-19041-rootkit")
    let truth = try #require(
      try TestData.json(TestData.shared("images/win10-19041-rootkit.truth.json").path) as? [String: Any])
    let callbacks = try #require(truth["callbacks"] as? [[String: Any]])
    let zeroed = try #require(
      callbacks.first { ($0["anomalies"] as? [String])?.contains("slot_zeroed_count_kept") == true })
    let routine = try #require(TestData.hex(zeroed["function"]))
    let out = try CLI.run(["callbacks", image, "--offline", "--carve", "--jobs", "2", "--format", "json"])
    let report = try #require(try JSONSerialization.jsonObject(with: out.stdoutData) as? [String: Any])
    let rows = try #require(report["callbacks"] as? [[String: Any]])
    let orphans = rows.filter { ($0["flags"] as? [String])?.contains("orphaned") == true }
    #expect(orphans.compactMap { TestData.hex($0["routine"]) } == [routine])
    #expect((orphans.first?["details"] as? [String: Any])?["linked"] as? Bool == false)
  }

  @Test func jobsMustBePositive() throws {
    let result = try CLI.run(["modules", try CLI.image("win10-19041-clean"), "--carve", "--jobs", "0"])
    #expect(result.status == 2)
    #expect(result.stderr.contains("--jobs"))
    #expect(result.stdout.isEmpty)
  }
}
