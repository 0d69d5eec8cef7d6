// A tick whose list changes while it is walked, made deterministic: the debug build's test hook
// (CALLSCOPE_WATCH_STOP_BEFORE_CHECK=1) stops `watch` after each walk and before its smear check;
// the test rewrites the registry callback list's links there (unlinking its first block, or linking
// it back) and resumes it. Changed on the try and on the retry: one `smeared` event and no
// added/removed; changed on the try only: the retry reads the new list, so `removed`.

import Foundation
import TestData
import Testing

#if canImport(Glibc)
  import Glibc
#endif

@Suite("watch: a list rewritten while walked", .serialized)
struct WatchSmearTests {
  /// The registry callback list of a copy of the clean image, and its two states: as written, and
  /// with its first block unlinked (head.Flink → second block, second.Blink → head).
  struct RegistryList {
    let file: String
    let first: [String: Any]
    /// Physical addresses of head.Flink and second.Blink (LIST_ENTRY at +0 of each block).
    let headFlinkPA: UInt64
    let secondBlinkPA: UInt64
    let original: (UInt64, UInt64)
    let unlinked: (UInt64, UInt64)

    init(directory: URL) throws {
      file = try LiveCLI.copy("win10-19041-clean", to: directory)
      let truth = try LiveCLI.truth("win10-19041-clean")
      let dtb = try #require(TestData.hex(truth["dtb"]))
      let blocks = (truth["callbacks"] as? [[String: Any]] ?? []).filter {
        $0["callscope_family"] as? String == "registry"
      }
      #expect(blocks.count == 2)
      let head = try #require(TestData.hex(blocks.first?["head_va"]))
      headFlinkPA = try LiveCLI.physical(head, dtb: dtb, image: file)
      let fd = open(file, O_RDONLY)
      defer { close(fd) }
      let firstVA = try TestData.read64(fd, headFlinkPA)
      first = try #require(blocks.first { TestData.hex($0["object_va"]) == firstVA }, "head.Flink \(firstVA)")
      let secondVA = try #require(blocks.compactMap { TestData.hex($0["object_va"]) }.first { $0 != firstVA })
      secondBlinkPA = try LiveCLI.physical(secondVA + 8, dtb: dtb, image: file)
      original = (firstVA, try TestData.read64(fd, secondBlinkPA))
      #expect(original.1 == firstVA)
      unlinked = (secondVA, head)
    }

    func write(_ links: (UInt64, UInt64)) throws {
      try TestData.write64(links.0, at: headFlinkPA, in: file)
      try TestData.write64(links.1, at: secondBlinkPA, in: file)
    }

    /// The 4 KiB pages the two writes touch.
    var pages: Set<UInt64> { [headFlinkPA >> 12, secondBlinkPA >> 12] }
  }

  /// The state letter of process `pid` (/proc/PID/stat, after the command's closing parenthesis).
  static func state(_ pid: Int32) -> Character? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
      let close = text.lastIndex(of: ")")
    else { return nil }
    return text[text.index(after: close)...].first { !$0.isWhitespace }
  }

  /// Waits for `watch` to stop at the hook, runs `rewrite`, resumes it and waits until it runs.
  static func atNextCheck(_ watch: WatchProcess, _ rewrite: () throws -> Void = {}) throws {
    let pid = watch.process.processIdentifier
    let deadline = Date().addingTimeInterval(60)
    while state(pid) != "T" {
      guard watch.process.isRunning, Date() < deadline else {
        throw TestDataError.tool("watch never stopped at the check (a debug build?) \(watch.stderr)")
      }
      usleep(200)
    }
    try rewrite()
    kill(pid, SIGCONT)
    while state(pid) == "T", Date() < deadline { usleep(100) }
  }

  static func named(_ lines: [[String: Any]], _ event: String) -> [[String: Any]] {
    lines.filter { $0["event"] as? String == event }
  }

  @Test func changedOnTryAndRetryIsSmeared() throws {
    let dir = try TestData.temporaryDirectory("watch")
    defer { try? FileManager.default.removeItem(at: dir) }
    let list = try RegistryList(directory: dir)
    let watch = try WatchProcess(
      arguments: [list.file, "--interval", "1ms", "--count", "3", "--format", "jsonl", "--offline"],
      environment: ["CALLSCOPE_WATCH_STOP_BEFORE_CHECK": "1"])
    defer { _ = watch.stop(signal: SIGKILL, seconds: 5) }
    try Self.atNextCheck(watch)  // tick 1: the state as written
    try Self.atNextCheck(watch) { try list.write(list.unlinked) }  // tick 2, try: unlinked under the walk
    try Self.atNextCheck(watch) { try list.write(list.original) }  // tick 2, retry: linked back under it
    try Self.atNextCheck(watch)  // tick 3: as tick 1
    #expect(watch.waitExit(seconds: 60) == 0, "\(watch.stderr)")
    let lines = watch.events
    let ticks = Self.named(lines, "tick")
    #expect(ticks.count == 3)
    #expect(ticks.map { $0["smeared"] as? Bool ?? false } == [false, true, false])
    let smeared = Self.named(lines, "smeared")
    #expect(smeared.count == 1)
    // Every page rewritten was noticed (the retry read the unlinked state; both pages then changed).
    #expect(smeared.first?["changedPages"] as? Int == list.pages.count)
    #expect(ticks.dropFirst().first?["changedPages"] as? Int == list.pages.count)
    let changes = lines.filter { ["added", "removed", "changed"].contains($0["event"] as? String ?? "") }
    #expect(changes.isEmpty, "\(changes)")
  }

  @Test func changedOnTryOnlyIsReadAgain() throws {
    let dir = try TestData.temporaryDirectory("watch")
    defer { try? FileManager.default.removeItem(at: dir) }
    let list = try RegistryList(directory: dir)
    let watch = try WatchProcess(
      arguments: [list.file, "--interval", "1ms", "--count", "2", "--format", "jsonl", "--offline"],
      environment: ["CALLSCOPE_WATCH_STOP_BEFORE_CHECK": "1"])
    defer { _ = watch.stop(signal: SIGKILL, seconds: 5) }
    try Self.atNextCheck(watch)  // tick 1
    try Self.atNextCheck(watch) { try list.write(list.unlinked) }  // tick 2, try: unlinked under the walk
    try Self.atNextCheck(watch)  // tick 2, retry: nothing changes
    #expect(watch.waitExit(seconds: 60) == 0, "\(watch.stderr)")
    let lines = watch.events
    #expect(Self.named(lines, "smeared").isEmpty)
    #expect(Self.named(lines, "tick").map { $0["smeared"] as? Bool ?? false } == [false, false])
    // The block unlinked is removed, with the routine and owner the truth gives it.
    let removed = Self.named(lines, "removed")
    #expect(removed.count == 1)
    #expect(removed.first?["family"] as? String == "registry")
    #expect(TestData.hex(removed.first?["routine"]) == TestData.hex(list.first["function"]))
    #expect(removed.first?["module"] as? String == list.first["module"] as? String)
    #expect(Self.named(lines, "added").isEmpty && Self.named(lines, "changed").isEmpty)
  }
}
