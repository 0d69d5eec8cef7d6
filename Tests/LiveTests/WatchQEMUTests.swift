// `callscope watch` on a real QEMU guest whose RAM is a memory-backend file pre-filled with the
// reference image win10-19041-clean: the test changes callbacks through QEMU's gdbstub (physical
// memory writes) and the watch must report each with the family, routine and owner of the truth.

import Foundation
import Live
import TestData
import Testing

#if canImport(Glibc)
  import Glibc
#endif

@Suite("watch on a running QEMU", .serialized)
struct WatchQEMUTests {
  static let image = "win10-19041-clean"
  static let interval = 0.3

  struct Started {
    let dir: URL
    let guest: QEMUGuest
    let watch: WatchProcess
    let truth: [String: Any]
    let ram: String
  }

  static func start(extra: [String] = [], stopped: Bool = true) throws -> Started {
    let dir = try TestData.temporaryDirectory("watch")
    let ram = try LiveCLI.copy(image, to: dir)
    let truth = try LiveCLI.truth(image)
    let size = try #require(TestData.hex((truth["image"] as? [String: Any])?["size"]))
    let guest = try QEMUGuest(ramPath: ram, ramSize: size, directory: dir, stopped: stopped)
    let watch = try WatchProcess(
      arguments: [
        ram, "--qmp", guest.qmpPath, "--interval", "300ms", "--format", "jsonl", "--offline",
      ] + (extra.contains("--count") ? extra : extra + ["--until", "120s"]))
    return Started(dir: dir, guest: guest, watch: watch, truth: truth, ram: ram)
  }

  static func callbacks(_ truth: [String: Any]) -> [[String: Any]] { truth["callbacks"] as? [[String: Any]] ?? [] }

  static func matches(_ e: [String: Any], event: String, family: String, routine: UInt64) -> Bool {
    e["event"] as? String == event && e["family"] as? String == family && TestData.hex(e["routine"]) == routine
  }

  @Test func reportsCallbacksChangedThroughTheGdbstub() throws {
    let s = try Self.start()
    defer {
      s.guest.kill()
      _ = s.watch.stop(signal: SIGKILL, seconds: 5)
      try? FileManager.default.removeItem(at: s.dir)
    }
    #expect(
      s.watch.wait(seconds: 60) { $0.contains { $0["event"] as? String == "tick" } }, "no first tick: \(s.watch.stderr)"
    )
    let all = Self.callbacks(s.truth)
    let dtb = try #require(TestData.hex(s.truth["dtb"]))

    // 1. process-notify slot 0: its block's Function (EX_CALLBACK_ROUTINE_BLOCK +8) now names a
    //    routine of a module that owns no process-notify callback (taken from another family).
    let process = all.filter { $0["callscope_family"] as? String == "process-notify" }
    let victim = try #require(process.first { $0["slot"] as? Int == 0 })
    let owners = Set(process.compactMap { $0["module"] as? String })
    let donor = try #require(
      all.first { c in
        guard let m = c["module"] as? String else { return false }
        return !owners.contains(m) && c["callscope_family"] as? String != "process-notify"
      })
    let newRoutine = try #require(TestData.hex(donor["function"]))
    let block = try #require(TestData.hex(victim["object_va"]))
    let functionPA = try LiveCLI.physical(block + 8, dtb: dtb, image: s.ram)
    let gdb = try GDBStub(port: s.guest.gdbPort)
    let ticksBefore = s.watch.ticks
    let written = Date()
    try gdb.writePhysical(functionPA, withUnsafeBytes(of: newRoutine.littleEndian, Array.init))
    let oldRoutine = try #require(TestData.hex(victim["function"]))
    #expect(
      s.watch.wait(seconds: 30) { lines in
        lines.contains { Self.matches($0, event: "added", family: "process-notify", routine: newRoutine) }
          && lines.contains { Self.matches($0, event: "removed", family: "process-notify", routine: oldRoutine) }
      }, "no added/removed event: \(s.watch.events.suffix(5)) \(s.watch.stderr)")
    let added = try #require(
      s.watch.events.first { Self.matches($0, event: "added", family: "process-notify", routine: newRoutine) })
    #expect(added["module"] as? String == donor["module"] as? String)
    #expect(TestData.hex(added["offset"]) == TestData.hex(donor["module_offset"]))
    #expect(added["index"] as? Int == 0)
    let removed = try #require(
      s.watch.events.first { Self.matches($0, event: "removed", family: "process-notify", routine: oldRoutine) })
    #expect(removed["module"] as? String == victim["module"] as? String)
    // Within one interval: the tick running when the write landed may have read the block before
    // it; the next one must see it.
    let ticksToEvent = Self.ticks(before: added, in: s.watch.events) - ticksBefore
    #expect(ticksToEvent <= 2, "event after \(ticksToEvent) ticks")

    // 2. thread-notify: one slot of the array zeroed.
    let thread = try #require(all.first { $0["callscope_family"] as? String == "thread-notify" })
    let head = try #require(TestData.hex(thread["head_va"]))
    let slot = try #require(thread["slot"] as? Int)
    let slotPA = try LiveCLI.physical(head + UInt64(slot) * 8, dtb: dtb, image: s.ram)
    try gdb.writePhysical(slotPA, [UInt8](repeating: 0, count: 8))
    let threadRoutine = try #require(TestData.hex(thread["function"]))
    #expect(
      s.watch.wait(seconds: 30) { lines in
        lines.contains { Self.matches($0, event: "removed", family: "thread-notify", routine: threadRoutine) }
      }, "no removed thread-notify event")
    let gone = try #require(
      s.watch.events.first { Self.matches($0, event: "removed", family: "thread-notify", routine: threadRoutine) })
    #expect(gone["module"] as? String == thread["module"] as? String)
    #expect(gone["index"] as? Int == slot)
    // 3. notepad.exe's PEB.KernelCallbackTable (PEB+0x58 on x64, DESIGN.md) now points 8 bytes on.
    let processes = s.truth["processes"] as? [[String: Any]] ?? []
    let notepad = try #require(processes.first { $0["name"] as? String == "notepad.exe" })
    let peb = try #require(TestData.hex(notepad["peb"]))
    let processDTB = try #require(TestData.hex(notepad["dtb"]))
    let table = try #require(TestData.hex(notepad["kernel_callback_table"]))
    let pointerPA = try LiveCLI.physical(peb + 0x58, dtb: processDTB, image: s.ram)
    try gdb.writePhysical(pointerPA, withUnsafeBytes(of: (table + 8).littleEndian, Array.init))
    #expect(
      s.watch.wait(seconds: 30) { lines in
        lines.contains {
          $0["event"] as? String == "kct-pointer-changed" && $0["pid"] as? Int == notepad["pid"] as? Int
        }
      }, "no kct-pointer-changed event")
    let moved = try #require(s.watch.events.first { $0["event"] as? String == "kct-pointer-changed" })
    #expect(TestData.hex(moved["table"]) == table + 8)
    #expect(TestData.hex(moved["previousTable"]) == table)
    #expect((moved["flags"] as? [String] ?? []).contains("table-differs"))
    #expect(s.watch.events.filter { $0["event"] as? String == "kct-pointer-changed" }.count == 1)

    // Nothing else changed: exactly these three callback events.
    let callbackEvents = s.watch.events.filter {
      ["added", "removed", "changed"].contains($0["event"] as? String ?? "")
    }
    #expect(callbackEvents.count == 3, "\(callbackEvents)")
    #expect(s.watch.stop() == 0)
    let format = ISO8601DateFormatter()
    format.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    let seen = (added["time"] as? String).flatMap(format.date(from:))
    let latency = seen.map { Int(($0.timeIntervalSince(written) * 1000).rounded()) }
    print(
      "watch on QEMU (accel \(s.guest.accelerator)): event \(latency.map { "\($0) ms" } ?? "?") after the write, "
        + "\(ticksToEvent) tick(s); interval \(Int(Self.interval * 1000)) ms")
  }

  /// The number of tick lines before `event` in `lines`.
  static func ticks(before event: [String: Any], in lines: [[String: Any]]) -> Int {
    var n = 0
    for line in lines {
      if line["event"] as? String == "tick" { n += 1 }
      if line as NSDictionary == event as NSDictionary { return n }
    }
    return n
  }

  /// QEMU killed under the watch: the watch ends with status 2 and says QEMU went away.
  @Test func qemuKilledEndsTheWatch() throws {
    let s = try Self.start()
    defer {
      s.guest.kill()
      _ = s.watch.stop(signal: SIGKILL, seconds: 5)
      try? FileManager.default.removeItem(at: s.dir)
    }
    #expect(s.watch.wait(seconds: 60) { $0.contains { $0["event"] as? String == "tick" } })
    s.guest.kill()
    let status = s.watch.waitExit(seconds: 20)
    #expect(status == 2, "status \(String(describing: status))")
    #expect(s.watch.stderr.contains("QMP socket"), "\(s.watch.stderr)")
  }

  /// `--pause` with a guest that is not running (prelaunch) leaves it as it was: never started.
  @Test func pauseLeavesAStoppedGuestStopped() throws {
    let s = try Self.start(extra: ["--pause", "--count", "3"])
    defer {
      s.guest.kill()
      _ = s.watch.stop(signal: SIGKILL, seconds: 5)
      try? FileManager.default.removeItem(at: s.dir)
    }
    #expect(s.watch.waitExit(seconds: 60) == 0, "\(s.watch.stderr)")
    let ticks = s.watch.events.filter { $0["event"] as? String == "tick" }
    #expect(ticks.count == 3)
    #expect(ticks.allSatisfy { $0["paused"] as? Bool == false })
    let qmp = try Live.QMPClient(path: s.guest.qmpPath)
    #expect(try qmp.status().status == "prelaunch")
  }

  /// `--pause` with a running guest (its firmware runs and finds nothing to boot): every tick stops
  /// it and says for how long, and the guest runs again after each tick and after the watch.
  @Test func pauseStopsARunningGuestForEachTick() throws {
    let s = try Self.start(extra: ["--pause", "--count", "4"], stopped: false)
    defer {
      s.guest.kill()
      _ = s.watch.stop(signal: SIGKILL, seconds: 5)
      try? FileManager.default.removeItem(at: s.dir)
    }
    #expect(s.watch.waitExit(seconds: 90) == 0, "\(s.watch.stderr)")
    let ticks = s.watch.events.filter { $0["event"] as? String == "tick" }
    #expect(ticks.count == 4)
    #expect(ticks.allSatisfy { $0["paused"] as? Bool == true && ($0["pauseMs"] as? Double ?? -1) >= 0 })
    let qmp = try Live.QMPClient(path: s.guest.qmpPath)
    #expect(try qmp.status().running)
  }

  /// A memory-backend-memfd guest, read through /proc/PID/fd: the reference image copied into the
  /// memfd, then a callback slot zeroed through the gdbstub is reported as removed.
  @Test func readsAMemfdBackendThroughProc() throws {
    let dir = try TestData.temporaryDirectory("watch")
    defer { try? FileManager.default.removeItem(at: dir) }
    let truth = try LiveCLI.truth(Self.image)
    let size = try #require(TestData.hex((truth["image"] as? [String: Any])?["size"]))
    let guest = try QEMUGuest(ramPath: "", ramSize: size, directory: dir)
    defer { guest.kill() }
    let memfd = try guest.memfdPath()
    try WatchRewriteTests.rewrite(memfd, from: try TestData.decompressed("images/\(Self.image).raw.xz"))
    let watch = try WatchProcess(arguments: [
      memfd, "--qmp", guest.qmpPath, "--interval", "300ms", "--format", "jsonl", "--offline", "--until", "120s",
    ])
    defer { _ = watch.stop(signal: SIGKILL, seconds: 5) }
    #expect(watch.wait(seconds: 60) { $0.contains { $0["event"] as? String == "tick" } }, "\(watch.stderr)")
    let dtb = try #require(TestData.hex(truth["dtb"]))
    let victim = try #require(Self.callbacks(truth).first { $0["callscope_family"] as? String == "image-notify" })
    let head = try #require(TestData.hex(victim["head_va"]))
    let slot = try #require(victim["slot"] as? Int)
    let routine = try #require(TestData.hex(victim["function"]))
    // The page walk reads the memfd as the guest's RAM file (the layout of a 256 MiB PC guest is flat).
    let slotPA = try LiveCLI.physical(head + UInt64(slot) * 8, dtb: dtb, image: memfd)
    try GDBStub(port: guest.gdbPort).writePhysical(slotPA, [UInt8](repeating: 0, count: 8))
    #expect(
      watch.wait(seconds: 30) { lines in
        lines.contains { Self.matches($0, event: "removed", family: "image-notify", routine: routine) }
      }, "no removed image-notify event: \(watch.stderr)")
    let removed = try #require(
      watch.events.first { Self.matches($0, event: "removed", family: "image-notify", routine: routine) })
    #expect(removed["module"] as? String == victim["module"] as? String)
    #expect(watch.stop() == 0)
  }
}
