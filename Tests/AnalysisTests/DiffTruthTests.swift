// `callscope diff` on the reference images against their truth files (written independently of
// CallScope): clean → rootkit must list exactly the planted changes, nothing else.
//
// The two images were generated separately: other KASLR bases AND other driver builds (module sizes
// and routine offsets differ, e.g. cng.sys!CngCreateProcessNotifyRoutine is +0x20c0 in clean and
// +0x2910 in rootkit). So the truth rows are paired by (family, module or owner, function_name,
// routine_kind) — the truth's own names, which CallScope never sees — not by module_offset.

import Analysis
import Foundation
import TestData
import Testing

@Suite struct DiffTruthTests {
  /// Truth identity of a planted callback.
  static func key(_ c: TruthCallback) -> String {
    "\(c.family)|\(c.module ?? c.ownerImage ?? "-")|\(c.functionName)|\(c.routineKind ?? "-")"
  }

  static func rows(_ scan: ImageScan) -> [CallbackDiffRow] { scan.verdicts.rows.map(CallbackDiffRow.init(row:)) }

  @Test func cleanToRootkitListsExactlyThePlantedChanges() async throws {
    let cleanTruth = try await TruthCache.shared.truth("clean")
    let rootkitTruth = try await TruthCache.shared.truth("rootkit")
    let clean = try await ScanCache.shared.scan("clean")
    let rootkit = try await ScanCache.shared.scan("rootkit")
    let diff = CallbackDiff(baseline: Self.rows(clean), current: Self.rows(rootkit))

    let cleanByKey = Dictionary(cleanTruth.callbacks.map { (Self.key($0), $0) }, uniquingKeysWith: { a, _ in a })
    let zeroed = rootkitTruth.callbacks.filter { $0.anomalies.contains("slot_zeroed_count_kept") }
    let present = rootkitTruth.callbacks.filter { !$0.anomalies.contains("slot_zeroed_count_kept") }
    let expectedAdded = present.filter { cleanByKey[Self.key($0)] == nil }
    let expectedChanged = present.filter { cleanByKey[Self.key($0)] != nil && !$0.anomalies.isEmpty }
    let expectedRemoved = zeroed.compactMap { cleanByKey[Self.key($0)] }
    // The planted set, as images/README.md describes it.
    #expect(expectedAdded.count == 6)
    #expect(expectedChanged.count == 4)
    #expect(expectedRemoved.count == 1)

    #expect(
      Set(diff.added.map(\.routine)) == Set(expectedAdded.map(\.function)), "added: \(diff.added.map(\.location))")
    #expect(diff.added.count == expectedAdded.count)
    #expect(
      Set(diff.removed.map(\.routine)) == Set(expectedRemoved.map(\.function)),
      "removed: \(diff.removed.map(\.location))")
    #expect(diff.removed.count == expectedRemoved.count)
    #expect(
      Set(diff.changed.map(\.after.routine)) == Set(expectedChanged.map(\.function)),
      "changed: \(diff.changed.map { "\($0.after.location) \($0.changes)" })")
    #expect(diff.changed.count == expectedChanged.count)
    // Each change pairs the clean routine with the rootkit one and names the planted anomaly.
    for planted in expectedChanged {
      let before = try #require(cleanByKey[Self.key(planted)])
      let change = try #require(diff.changed.first { $0.after.routine == planted.function })
      #expect(change.before.routine == before.function)
      if planted.anomalies.contains("disabled") {
        #expect(change.changes.contains("flag +disabled"), "\(change.changes)")
        #expect(change.changes.contains { $0.hasPrefix("enabled:") }, "\(change.changes)")
      }
      if planted.anomalies.contains(where: { $0.hasPrefix("patched") }) {
        #expect(change.changes.contains("flag +patched-prologue"), "\(change.changes)")
      }
    }
    #expect(diff.hasFindings)
  }

  @Test func rootkitToCleanSwapsAddedAndRemoved() async throws {
    let clean = try await ScanCache.shared.scan("clean")
    let rootkit = try await ScanCache.shared.scan("rootkit")
    let forward = CallbackDiff(baseline: Self.rows(clean), current: Self.rows(rootkit))
    let backward = CallbackDiff(baseline: Self.rows(rootkit), current: Self.rows(clean))
    #expect(Set(backward.removed.map(\.routine)) == Set(forward.added.map(\.routine)))
    #expect(Set(backward.added.map(\.routine)) == Set(forward.removed.map(\.routine)))
    #expect(Set(backward.changed.map(\.before.routine)) == Set(forward.changed.map(\.after.routine)))
  }
}
