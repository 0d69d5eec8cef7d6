// Verdicts against the rootkit truth: every planted anomaly becomes the matching flag or family
// finding, and images without anomalies carry none.

import Analysis
import Callbacks
import Foundation
import TestData
import Testing
import WindowsKernel

@Suite struct RootkitVerdictsTests {
  /// Truth anomaly → the row flag CallScope must give (`slot_beyond_8` is no flag: it only says
  /// that tools reading 8 image-notify slots miss the row; `slot_zeroed_count_kept` is a finding).
  static let rowFlags: [String: Rule] = [
    "no_module": .outsideModules, "unlinked_module": .unlinkedModule, "disabled": .disabled,
    "patched_ret": .patchedPrologue, "patched_xor_ret": .patchedPrologue,
  ]

  @Test func everyAnomalyIsFlaggedAndNothingElse() async throws {
    let truth = try await TruthCache.shared.truth("rootkit")
    let scan = try await ScanCache.shared.scan("rootkit")
    var expected: Set<String> = []
    for t in truth.callbacks {
      for anomaly in t.anomalies {
        if let rule = Self.rowFlags[anomaly] {
          expected.insert("\(t.family) \(TestData.hexString(t.function)) \(t.routineKind ?? "") \(rule.rawValue)")
        } else {
          #expect(["slot_beyond_8", "slot_zeroed_count_kept"].contains(anomaly), "unknown anomaly \(anomaly)")
        }
      }
    }
    #expect(expected.count >= 8)
    var flagged: Set<String> = []
    for row in scan.verdicts.rows {
      var kind = ""
      if case .string(let k) = row.entry.detail("routineKind") { kind = k }
      for flag in row.flags {
        flagged.insert("\(row.entry.family) \(TestData.hexString(row.entry.routine)) \(kind) \(flag)")
      }
    }
    #expect(scan.results.allSatisfy { $0.warnings.isEmpty }, "\(scan.results.flatMap(\.warnings))")
    #expect(flagged == expected, "missing \(expected.subtracting(flagged)), extra \(flagged.subtracting(expected))")
  }

  @Test func patchedProloguesMatchThePlantedBytes() async throws {
    let truth = try await TruthCache.shared.truth("rootkit")
    let scan = try await ScanCache.shared.scan("rootkit")
    let patched = truth.callbacks.filter { $0.anomalies.contains { $0.hasPrefix("patched_") } }
    #expect(patched.count == 2)
    for t in patched {
      let planted = try #require(t.extra["patched_bytes"].map(Self.bytes))
      let row = try #require(scan.verdicts.rows.first { $0.entry.family == t.family && $0.entry.routine == t.function })
      let prologue = try #require(row.prologue)
      let match = try #require(PrologueCheck.match(prologue))
      #expect(match.bytes == planted, "\(t)")
      #expect(Array(prologue.prefix(t.firstBytes.count)) == t.firstBytes)
    }
  }

  @Test func zeroedSlotIsACountMismatchAndACarvedOrphan() async throws {
    let truth = try await TruthCache.shared.truth("rootkit")
    let zeroed = truth.callbacks.filter { $0.anomalies.contains("slot_zeroed_count_kept") }
    #expect(zeroed.count == 1)
    let plain = try await ScanCache.shared.scan("rootkit")
    let carved = try await ScanCache.shared.scan("rootkit", carve: true)
    for t in zeroed {
      // The counters of the truth still include the routine: they exceed the family's non-empty slots.
      let findings = plain.verdicts.familyFindings.filter { $0.family == t.family }
      #expect(findings.map(\.rule) == [.countMismatch], "\(t.family): \(findings)")
      let counted =
        (truth.counters["PspCreateThreadNotifyRoutineCount"] ?? 0)
        + (truth.counters["PspCreateThreadNotifyRoutineNonSystemCount"] ?? 0)
      #expect(counted == truth.callbacks.filter { $0.family == t.family }.count)
      #expect(findings.first?.detail.contains("= \(counted)") == true)
      // With carving the emptied slot's block comes back as an orphaned row owned by its module.
      let orphans = carved.verdicts.rows.filter { $0.flags.contains(Rule.orphaned.rawValue) }
      #expect(orphans.map(\.entry.routine) == [t.function], "orphans: \(orphans.map(\.entry.routine))")
      #expect(orphans.first?.owner?.module.name == t.module)
      #expect(orphans.first?.owner?.offset == t.moduleOffset)
      #expect(orphans.first?.entry.detail("poolTag") == .string("Cbrb"))
    }
    // Carving finds every linked block too, and no orphan beyond the zeroed one.
    #expect(carved.carved?.orphaned.count == 1)
    #expect((carved.carved?.linkedCount ?? 0) > 0)
  }

  @Test func carvingACleanImageFindsNoOrphan() async throws {
    let scan = try await ScanCache.shared.scan("clean", carve: true)
    let outcome = try #require(scan.carved)
    #expect(outcome.orphaned.isEmpty, "\(outcome.orphaned.map(\.routine))")
    #expect(outcome.scanned == outcome.linkedCount)
    #expect(scan.verdicts.rows.allSatisfy { $0.flags.isEmpty })
  }

  @Test(arguments: ["clean", "kct-hijack", "corrupt-proc-loop", "corrupt-reg-dangling"])
  func imagesWithoutCallbackAnomaliesCarryNoFlags(_ name: String) async throws {
    let truth = try await TruthCache.shared.truth(name)
    #expect(truth.callbacks.allSatisfy { $0.anomalies.isEmpty })
    let scan = try await ScanCache.shared.scan(name)
    let flagged = scan.verdicts.rows.filter { !$0.flags.isEmpty }
    #expect(flagged.isEmpty, "\(name): \(flagged.map { "\($0.entry.family) \($0.flags)" })")
    if name == "corrupt-reg-dangling" {
      // The dangling Flink is in the registry list: a list-corrupt finding there, nowhere else,
      // and every registry callback still comes out (walked backwards from the head).
      #expect(scan.verdicts.familyFindings.map(\.family) == ["registry"])
      #expect(scan.verdicts.familyFindings.map(\.rule) == [.listCorrupt])
      let registry = truth.callbacks.filter { $0.family == "registry" }.map(\.function)
      #expect(Set(scan.rows("registry").map(\.entry.routine)) == Set(registry))
      #expect(scan.results.filter { !$0.warnings.isEmpty }.map(\.family) == ["registry"])
    } else {
      #expect(scan.verdicts.familyFindings.isEmpty, "\(name): \(scan.verdicts.familyFindings)")
      #expect(scan.results.allSatisfy { $0.warnings.isEmpty }, "\(name): \(scan.results.flatMap(\.warnings))")
    }
  }

  static func bytes(_ hex: String) -> [UInt8] {
    var out: [UInt8] = []
    var index = hex.startIndex
    while let next = hex.index(index, offsetBy: 2, limitedBy: hex.endIndex), index != next,
      let byte = UInt8(hex[index..<next], radix: 16)
    {
      out.append(byte)
      index = next
    }
    return out
  }
}
