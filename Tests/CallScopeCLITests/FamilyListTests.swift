// `callbacks --family list` needs no image and describes each family: what registers into it, its
// head symbols (checked against the truth's head of every planted callback) and the bundled builds
// that have it (checked against the 19041.1415 truth: every family it plants, not the one it skips).

import Foundation
import TestData
import Testing

struct FamilyListTests {
  /// DESIGN.md's family table, plus the truth's family map of the reference images, plus the
  /// families of issue 14 built so far.
  static let design = [
    "process-notify", "thread-notify", "image-notify", "bugcheck", "bugcheck-reason", "registry", "object-process",
    "object-thread", "object-desktop", "shutdown", "last-chance-shutdown", "fs-registration", "filesystem-disk",
    "filesystem-cdrom", "filesystem-network", "filesystem-tape", "logon-session-terminated",
    "logon-session-terminated-ex", "power-setting", "debug-print", "dbgk-lkmd", "nmi", "callback-object",
    "pnp-device-class", "pnp-profile", "ci", "emp", "ex-host", "alt-syscall", "pico", "silo-monitor",
    "power-coalescing", "etw-provider", "irp-dispatch", "ssdt", "timer-dpc", "io-timer", "driver-reinit",
    "object-type-procedure", "hal-table", "idt", "object-other", "pnp-target-device", "etw-logger",
    "instrumentation-callback", "lego-notify", "bound-callback", "minifilter", "wfp-callout", "priority-callback",
    "win32k-callout", "kd-power", "io-tracking", "alpc-log", "interrupt-object", "shadow-ssdt", "bugcheck-add-pages",
  ]

  func families() throws -> [String: [String: Any]] {
    let result = try CLI.run(["callbacks", "--family", "list", "--format", "json"])
    try #require(result.status == 0, "\(result.stderr)")
    let json = try #require(try CLI.json(result.stdout) as? [String: Any])
    let rows = try #require(json["families"] as? [[String: Any]])
    #expect(rows.count == Self.design.count)
    return Dictionary(rows.map { ($0["id"] as? String ?? "", $0) }, uniquingKeysWith: { a, _ in a })
  }

  @Test func listsEveryFamilyOfTheDesignWithoutAnImage() throws {
    let rows = try families()
    #expect(Set(rows.keys) == Set(Self.design))
    for (id, row) in rows {
      #expect(!(row["registration"] as? String ?? "").isEmpty, "\(id) has no registration API")
      #expect(!(row["heads"] as? [String] ?? []).isEmpty, "\(id) has no head symbol")
    }
    let table = try CLI.run(["callbacks", "--family", "list"])
    #expect(table.status == 0, "\(table.stderr)")
    for text in ["registration", "PsSetCreateProcessNotifyRoutine", "PspCreateProcessNotifyRoutine", "19041"] {
      #expect(table.stdout.contains(text), "table lacks \(text)")
    }
  }

  @Test func headsAndBuildsAgreeWithTheTruth() throws {
    let rows = try families()
    let truth = try CLI.truth("win10-19041-clean")
    let callbacks = try #require(truth["callbacks"] as? [[String: Any]])
    let build = try #require((truth["build"] as? String).flatMap { Int($0.split(separator: ".")[2]) })
    var planted: Set<String> = []
    for callback in callbacks {
      let family = try #require(callback["callscope_family"] as? String)
      let head = try #require(callback["head_symbol"] as? String)
      planted.insert(family)
      let heads = rows[family]?["heads"] as? [String] ?? []
      #expect(heads.contains(head), "\(family): truth head \(head) not among \(heads)")
    }
    func builds(_ id: String) -> [Int: (present: Int, of: Int)] {
      var out: [Int: (Int, Int)] = [:]
      for b in rows[id]?["builds"] as? [[String: Any]] ?? [] {
        out[Int(CLI.number(b["build"]) ?? 0)] = (Int(CLI.number(b["profiles"]) ?? 0), Int(CLI.number(b["of"]) ?? 0))
      }
      return out
    }
    for family in planted {
      let present = builds(family)[build]?.present ?? 0
      #expect(present > 0, "\(family) is planted on \(build) but no bundled \(build) profile has it")
    }
    // A family the truth skips for want of its symbol is not claimed for every profile of that build.
    for skipped in truth["families_skipped"] as? [[String: Any]] ?? [] {
      let family = try #require(skipped["callscope_family"] as? String)
      if let entry = builds(family)[build] {
        #expect(entry.present < entry.of, "\(family) claimed for all of \(build)")
      }
    }
  }

  @Test func otherCallbacksUsesStillNeedAnImage() throws {
    let result = try CLI.run(["callbacks", "--offline"])
    #expect(result.status == 2)
    #expect(result.stdout.isEmpty)
    #expect(result.stderr.contains("<image>"), "\(result.stderr)")
  }
}
