// `callscope watch` on a raw image that is rewritten in place: clean → rootkit page by page must
// give exactly the events of `callscope diff clean rootkit`; a truncated or deleted file ends the
// watch with status 2; a list made to loop during the watch is survived (ticks go on).

import Foundation
import TestData
import Testing

#if canImport(Glibc)
  import Glibc
#endif

@Suite("watch on a rewritten image", .serialized)
struct WatchRewriteTests {
  /// Rewrites `target` in place into the content of `source`, page by page: the pages that differ
  /// are found first, then written one after the other in one burst (so a tick sees the old state,
  /// the new one, or pages changing under it — which it must notice and read again).
  @discardableResult
  static func rewrite(_ target: String, from source: String) throws -> Int {
    let from = open(source, O_RDONLY)
    let to = open(target, O_RDWR)
    defer {
      close(from)
      close(to)
    }
    guard from >= 0, to >= 0 else { throw TestDataError.tool("open \(source) / \(target)") }
    var a = [UInt8](repeating: 0, count: 4096)
    var b = [UInt8](repeating: 0, count: 4096)
    var offset: off_t = 0
    var pages: [(off_t, [UInt8])] = []
    while true {
      let n = pread(from, &a, 4096, offset)
      guard n > 0 else { break }
      let m = pread(to, &b, 4096, offset)
      if m != n || memcmp(a, b, n) != 0 { pages.append((offset, Array(a[..<n]))) }
      offset += off_t(n)
    }
    for (offset, bytes) in pages {
      guard bytes.withUnsafeBytes({ pwrite(to, $0.baseAddress, $0.count, offset) }) == bytes.count else {
        throw TestDataError.tool("pwrite at \(offset)")
      }
    }
    return pages.count
  }

  static func key(_ row: [String: Any]) -> String {
    "\(row["family"] as? String ?? "")|\(row["index"] as? Int ?? -1)|\(row["routine"] as? String ?? "")|"
      + "\(row["module"] as? String ?? "-")|\(row["offset"] as? String ?? "-")"
  }

  static func callbackEvents(_ lines: [[String: Any]], _ name: String) -> [String] {
    lines.filter { $0["event"] as? String == name }.map(key).sorted()
  }

  @Test func cleanToRootkitIsTheDiff() throws {
    let dir = try TestData.temporaryDirectory("watch")
    defer { try? FileManager.default.removeItem(at: dir) }
    let file = try LiveCLI.copy("win10-19041-clean", to: dir)
    let clean = try TestData.decompressed("images/win10-19041-clean.raw.xz")
    let rootkit = try TestData.decompressed("images/win10-19041-rootkit.raw.xz")
    let watch = try WatchProcess(arguments: [
      file, "--interval", "300ms", "--format", "jsonl", "--offline", "--until", "120s",
    ])
    defer { _ = watch.stop(signal: SIGKILL, seconds: 5) }
    #expect(watch.wait(seconds: 60) { $0.contains { $0["event"] as? String == "tick" } }, "\(watch.stderr)")
    let pages = try Self.rewrite(file, from: rootkit)
    #expect(pages > 0)
    let after = watch.ticks
    // Two whole ticks after the rewrite: the second surely read only rewritten memory.
    #expect(watch.wait(seconds: 60) { lines in lines.filter { $0["event"] as? String == "tick" }.count >= after + 2 })
    #expect(watch.stop(signal: SIGTERM) == 0)

    let diffRun = try TestData.run(try LiveCLI.binary(), ["diff", clean, rootkit, "--format", "json", "--offline"])
    #expect(diffRun.status == 0, "\(diffRun.stderr)")
    let diff = try #require(try JSONSerialization.jsonObject(with: diffRun.stdoutData) as? [String: Any])
    let expectedAdded = (diff["added"] as? [[String: Any]] ?? []).map(Self.key).sorted()
    let expectedRemoved = (diff["removed"] as? [[String: Any]] ?? []).map(Self.key).sorted()
    let expectedChanged = (diff["changed"] as? [[String: Any]] ?? []).compactMap { $0["after"] as? [String: Any] }
      .map(Self.key).sorted()
    let lines = watch.events
    #expect(!expectedAdded.isEmpty)
    #expect(Self.callbackEvents(lines, "added") == expectedAdded)
    #expect(Self.callbackEvents(lines, "removed") == expectedRemoved)
    #expect(Self.callbackEvents(lines, "changed") == expectedChanged)
    // The changes of each changed callback, as the diff words them.
    let changes = lines.filter { $0["event"] as? String == "changed" }.map {
      "\(Self.key($0)) \($0["changes"] as? [String] ?? [])"
    }
    let expectedChanges = (diff["changed"] as? [[String: Any]] ?? []).map {
      "\(Self.key($0["after"] as? [String: Any] ?? [:])) \($0["changes"] as? [String] ?? [])"
    }
    #expect(changes.sorted() == expectedChanges.sorted())
    // And the truth agrees on what was planted: every rootkit callback the truth marks as new code
    // (in no module, or in the unlinked driver) is among the added events, by family and routine.
    let planted = (try LiveCLI.truth("win10-19041-rootkit")["callbacks"] as? [[String: Any]] ?? []).filter {
      !Set($0["anomalies"] as? [String] ?? []).isDisjoint(with: ["no_module", "unlinked_module"])
    }
    #expect(planted.count >= 5)
    let addedKeys = Set(
      lines.filter { $0["event"] as? String == "added" }.map {
        "\($0["family"] as? String ?? "")|\(TestData.hex($0["routine"]) ?? 0)"
      })
    for p in planted {
      let key = "\(p["callscope_family"] as? String ?? "")|\(TestData.hex(p["function"]) ?? 0)"
      #expect(addedKeys.contains(key), "planted \(key) not reported as added")
    }
    // The rootkit image is another boot: every module of PsLoadedModuleList and every process of
    // the clean one went away and came back elsewhere, as the two truths list them.
    let cleanTruth = try LiveCLI.truth("win10-19041-clean")
    let rootkitTruth = try LiveCLI.truth("win10-19041-rootkit")
    #expect(Self.moduleEvents(lines, "module-unloaded") == Self.listedModules(cleanTruth))
    #expect(Self.moduleEvents(lines, "module-loaded") == Self.listedModules(rootkitTruth))
    #expect(Self.processEvents(lines, "process-exited") == Self.processes(cleanTruth))
    #expect(Self.processEvents(lines, "process-started") == Self.processes(rootkitTruth))
  }

  /// `name|base` of each module event called `name`.
  static func moduleEvents(_ lines: [[String: Any]], _ name: String) -> [String] {
    lines.filter { $0["event"] as? String == name }.map {
      "\($0["name"] as? String ?? "")|\(TestData.hex($0["base"]) ?? 0)"
    }
    .sorted()
  }

  /// `name|base` of the truth's modules in PsLoadedModuleList (an unlinked one is in no list).
  static func listedModules(_ truth: [String: Any]) -> [String] {
    (truth["modules"] as? [[String: Any]] ?? []).filter { $0["in_PsLoadedModuleList"] as? Bool == true }.map {
      "\($0["name"] as? String ?? "")|\(TestData.hex($0["base"]) ?? 0)"
    }.sorted()
  }

  /// `pid|ppid|name` of each process event called `name`.
  static func processEvents(_ lines: [[String: Any]], _ name: String) -> [String] {
    lines.filter { $0["event"] as? String == name }.map {
      "\($0["pid"] as? Int ?? -1)|\($0["ppid"] as? Int ?? -1)|\($0["name"] as? String ?? "")"
    }.sorted()
  }

  /// `pid|ppid|name` of the truth's processes.
  static func processes(_ truth: [String: Any]) -> [String] {
    (truth["processes"] as? [[String: Any]] ?? []).map {
      "\($0["pid"] as? Int ?? -1)|\($0["ppid"] as? Int ?? -1)|\($0["name"] as? String ?? "")"
    }.sorted()
  }

  /// Slot 0 of winlogon's and explorer's table (user32's apfnDispatch) rewritten in place to the
  /// private address the kct-hijack truth plants: a kct-slot-changed event for each process on that
  /// page, from the
  /// routine there before (read with the tests' own page walk) to the planted one — and no process,
  /// module or callback event. The table all GUI processes share is the one rewritten, so this
  /// holds only if the watch keeps judging against the table it first found.
  @Test func rewrittenTableSlotIsReported() throws {
    let dir = try TestData.temporaryDirectory("watch")
    defer { try? FileManager.default.removeItem(at: dir) }
    let file = try LiveCLI.copy("win10-19041-clean", to: dir)
    let truth = try LiveCLI.truth("win10-19041-clean")
    let hijack = try LiveCLI.truth("win10-19041-kct-hijack")
    let notepad = try #require(
      (hijack["processes"] as? [[String: Any]])?.first { $0["name"] as? String == "notepad.exe" })
    let planted = try #require(TestData.hex((notepad["kct_differs"] as? [[String: Any]])?.first?["value"]))
    let gui = (truth["processes"] as? [[String: Any]] ?? []).filter { $0["kernel_callback_table"] != nil }
    #expect(gui.count == 3)
    // Where each GUI process's slot 0 lies, and its routine; winlogon's and explorer's are rewritten,
    // and every process whose slot 0 is on a rewritten page (notepad shares it too) must say so.
    var slot0: [(pid: Int, pa: UInt64, routine: UInt64)] = []
    let fd = open(file, O_RDONLY)
    for p in gui {
      let pa = try LiveCLI.physical(
        try #require(TestData.hex(p["kernel_callback_table"])), dtb: try #require(TestData.hex(p["dtb"])), image: file)
      slot0.append((p["pid"] as? Int ?? -1, pa, try TestData.read64(fd, pa)))
    }
    close(fd)
    let notepadPID = gui.first { $0["name"] as? String == "notepad.exe" }?["pid"] as? Int
    let writes = Set(slot0.filter { $0.pid != notepadPID }.map(\.pa))
    let expected = slot0.filter { writes.contains($0.pa) }.map { "\($0.pid)|0|\($0.routine)|\(planted)" }
    #expect(expected.count >= 2)
    let watch = try WatchProcess(arguments: [
      file, "--interval", "200ms", "--format", "jsonl", "--offline", "--until", "120s",
    ])
    defer { _ = watch.stop(signal: SIGKILL, seconds: 5) }
    #expect(watch.wait(seconds: 60) { $0.contains { $0["event"] as? String == "tick" } }, "\(watch.stderr)")
    for pa in writes { try TestData.write64(planted, at: pa, in: file) }
    #expect(
      watch.wait(seconds: 30) { lines in lines.filter { $0["event"] as? String == "kct-slot-changed" }.count >= 2 },
      "\(watch.events.filter { $0["event"] as? String != "tick" }) \(watch.stderr)")
    let after = watch.ticks
    #expect(watch.wait(seconds: 30) { lines in lines.filter { $0["event"] as? String == "tick" }.count >= after + 1 })
    #expect(watch.stop() == 0)
    let events = watch.events.filter { $0["event"] as? String != "tick" }
    let slots = events.filter { $0["event"] as? String == "kct-slot-changed" }.map {
      "\($0["pid"] as? Int ?? -1)|\($0["index"] as? Int ?? -1)|"
        + "\(TestData.hex(($0["before"] as? [String: Any])?["routine"]) ?? 0)|"
        + "\(TestData.hex(($0["after"] as? [String: Any])?["routine"]) ?? 0)"
    }
    #expect(slots.sorted() == expected.sorted())
    #expect(events.count == slots.count, "\(events)")
  }

  /// `--baseline`: the first tick lists every callback as added — per family as many as the truth
  /// holds — in JSON Lines and, one line each, in the table.
  @Test func baselineListsEveryCallbackOfTheTruth() throws {
    let image = try TestData.decompressed("images/win10-19041-clean.raw.xz")
    var expected: [String: Int] = [:]
    for c in try LiveCLI.truth("win10-19041-clean")["callbacks"] as? [[String: Any]] ?? [] {
      expected[c["callscope_family"] as? String ?? "", default: 0] += 1
    }
    let jsonl = try TestData.run(
      try LiveCLI.binary(), ["watch", image, "--count", "1", "--baseline", "--format", "jsonl", "--offline"])
    #expect(jsonl.status == 0, "\(jsonl.stderr)")
    var seen: [String: Int] = [:]
    var ticks = 0
    for line in jsonl.stdout.split(separator: "\n") {
      let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
      #expect(object["schema"] as? String == "callscope/1")
      if object["event"] as? String == "tick" { ticks += 1 }
      if object["event"] as? String == "added" { seen[object["family"] as? String ?? "", default: 0] += 1 }
    }
    #expect(ticks == 1)
    #expect(seen == expected)
    let table = try TestData.run(try LiveCLI.binary(), ["watch", image, "--count", "1", "--baseline", "--offline"])
    #expect(table.status == 0, "\(table.stderr)")
    let added = table.stdout.split(separator: "\n").filter { $0.contains("  added ") }
    #expect(added.count == expected.values.reduce(0, +))
  }

  @Test func truncatedFileEndsWithStatus2() throws {
    let dir = try TestData.temporaryDirectory("watch")
    defer { try? FileManager.default.removeItem(at: dir) }
    let file = try LiveCLI.copy("win10-19041-clean", to: dir)
    let watch = try WatchProcess(arguments: [
      file, "--interval", "200ms", "--format", "jsonl", "--offline", "--until", "120s",
    ])
    defer { _ = watch.stop(signal: SIGKILL, seconds: 5) }
    #expect(watch.wait(seconds: 60) { $0.contains { $0["event"] as? String == "tick" } }, "\(watch.stderr)")
    #expect(truncate(file, 64 << 20) == 0)
    #expect(watch.waitExit(seconds: 30) == 2)
    #expect(watch.stderr.contains("truncated"), "\(watch.stderr)")
  }

  @Test func deletedFileEndsWithStatus2() throws {
    let dir = try TestData.temporaryDirectory("watch")
    defer { try? FileManager.default.removeItem(at: dir) }
    let file = try LiveCLI.copy("win10-19041-clean", to: dir)
    let watch = try WatchProcess(arguments: [
      file, "--interval", "200ms", "--format", "jsonl", "--offline", "--until", "120s",
    ])
    defer { _ = watch.stop(signal: SIGKILL, seconds: 5) }
    #expect(watch.wait(seconds: 60) { $0.contains { $0["event"] as? String == "tick" } }, "\(watch.stderr)")
    #expect(unlink(file) == 0)
    #expect(watch.waitExit(seconds: 30) == 2)
    #expect(watch.stderr.contains("vanished"), "\(watch.stderr)")
  }

  /// The process list made to loop while watched (corrupt-proc-loop's defect): no hang, no crash;
  /// the watch goes on ticking and ends with status 0 on SIGINT. The processes behind the loop are
  /// still found (the list is walked backwards too), so no process is reported as exited.
  @Test func loopingListIsSurvived() throws {
    let dir = try TestData.temporaryDirectory("watch")
    defer { try? FileManager.default.removeItem(at: dir) }
    let file = try LiveCLI.copy("win10-19041-clean", to: dir)
    let loop = try TestData.decompressed("images/win10-19041-corrupt-proc-loop.raw.xz")
    let watch = try WatchProcess(arguments: [
      file, "--interval", "200ms", "--format", "jsonl", "--offline", "--until", "120s",
    ])
    defer { _ = watch.stop(signal: SIGKILL, seconds: 5) }
    #expect(watch.wait(seconds: 60) { $0.contains { $0["event"] as? String == "tick" } }, "\(watch.stderr)")
    try Self.rewrite(file, from: loop)
    let after = watch.ticks
    #expect(
      watch.wait(seconds: 60) { lines in lines.filter { $0["event"] as? String == "tick" }.count >= after + 3 },
      "ticks \(after) → \(watch.ticks), running \(watch.process.isRunning), last \(watch.events.suffix(2)) \(watch.stderr)"
    )
    #expect(watch.stop() == 0)
    let lines = watch.events
    #expect(
      !lines.contains { $0["event"] as? String == "process-exited" },
      "\(lines.filter { $0["event"] as? String != "tick" })")
    let truth = try LiveCLI.truth("win10-19041-corrupt-proc-loop")
    #expect(truth["defect"] != nil)
  }
}
