// `WatchEvent.between` on states read from the reference images, with every expected event derived
// from the truth files: clean → rootkit (another boot of the same build, so every module and process
// is new, plus what the rootkit planted), and clean → clean with notepad's KernelCallbackTable moved
// and a user32 table slot rewritten (the value the kct-hijack truth plants), patched with the tests'
// own page walk.

import Analysis
import Callbacks
import Foundation
import MemoryImage
import Symbols
import TestData
import Testing
import WindowsKernel

#if canImport(Glibc)
  import Glibc
#endif

@Suite("watch events from the truth files")
struct WatchEventTruthTests {
  /// One `watch` tick's state of the raw image `path`, read as the ticker reads it.
  static func snapshot(_ path: String, build: Int, expected: ExpectedCallbackTable? = nil) throws -> WatchSnapshot {
    let memory = try MemoryImageOpener.open(path: path)
    let system = try KernelDiscovery.discover(memory: memory)
    guard let image = system.kernel else { throw TestDataError.tool("\(path): no kernel") }
    let profile = try ProfileLoader.load(
      identity: image.pdb, symbolPath: SymbolPath.resolve(symbols: [], environment: [:]), offline: true,
      openPDB: { try PDBProfile(path: $0) })
    return WatchSnapshot(
      reading: Kernel(space: system.space, image: image, profile: profile), build: build, expected: expected)
  }

  static func truthJSON(_ name: String) throws -> [String: Any] {
    guard let t = try TestData.json(TestData.shared("images/win10-19041-\(name).truth.json").path) as? [String: Any]
    else { throw TestDataError.tool("truth of \(name)") }
    return t
  }

  static func processes(_ truth: [String: Any]) -> [[String: Any]] { truth["processes"] as? [[String: Any]] ?? [] }

  /// `pid|name` of each truth process.
  static func processKeys(_ truth: [String: Any]) -> Set<String> {
    Set(processes(truth).map { "\($0["pid"] as? Int ?? -1)|\($0["name"] as? String ?? "")" })
  }

  /// Events of one kind, each as `key`.
  static func keys(_ events: [WatchEvent], _ name: String, _ key: (WatchEvent) -> String?) -> [String] {
    events.filter { $0.name == name }.compactMap(key).sorted()
  }

  @Test func cleanToRootkitIsWhatTheTruthsDiffer() async throws {
    let clean = try await TruthCache.shared.truth("clean")
    let rootkit = try await TruthCache.shared.truth("rootkit")
    let before = try Self.snapshot(
      try TestData.decompressed("images/win10-19041-clean.raw.xz"), build: clean.buildNumber)
    let after = try Self.snapshot(
      try TestData.decompressed("images/win10-19041-rootkit.raw.xz"), build: rootkit.buildNumber)
    let events = WatchEvent.between(before, after)

    // Modules: another boot, so every module of PsLoadedModuleList is elsewhere; the unlinked
    // evil.sys is in no list, so it is not loaded as far as the list says.
    func moduleKeys(_ t: Truth) -> [String] {
      t.modules.filter(\.inLoadedModuleList).map { "\($0.name)|\($0.base)" }.sorted()
    }
    let module: (WatchEvent) -> String? = {
      switch $0 {
      case .moduleLoaded(let m), .moduleUnloaded(let m): return "\(m.name)|\(m.base)"
      default: return nil
      }
    }
    #expect(Self.keys(events, "module-unloaded", module) == moduleKeys(clean))
    #expect(Self.keys(events, "module-loaded", module) == moduleKeys(rootkit))
    #expect(!moduleKeys(rootkit).contains { $0.hasPrefix("evil.sys|") })

    // Processes: every one exits and starts anew (other pids, other EPROCESSes).
    let process: (WatchEvent) -> String? = {
      switch $0 {
      case .processStarted(let p), .processExited(let p): return "\(p.pid)|\(p.name)"
      default: return nil
      }
    }
    #expect(Set(Self.keys(events, "process-exited", process)) == Self.processKeys(try Self.truthJSON("clean")))
    #expect(Set(Self.keys(events, "process-started", process)) == Self.processKeys(try Self.truthJSON("rootkit")))
    #expect(Self.keys(events, "process-exited", process).count == 15)

    // Callbacks, matched as `diff` matches them (module and place, not address): the planted ones
    // are added, the zeroed slot removed, the patched and disabled ones changed.
    let callback: (WatchEvent) -> String? = {
      switch $0 {
      case .added(let r), .removed(let r): return "\(r.entry.family)|\(r.entry.routine)"
      case .changed(_, let r, _): return "\(r.entry.family)|\(r.entry.routine)"
      default: return nil
      }
    }
    func planted(_ anomalies: Set<String>) -> [TruthCallback] {
      rootkit.callbacks.filter { !anomalies.isDisjoint(with: $0.anomalies) }
    }
    let added = planted(["no_module", "unlinked_module"]).map { "\($0.family)|\($0.function)" }.sorted()
    #expect(added.count == 6)
    #expect(Self.keys(events, "added", callback) == added)
    let zeroed = planted(["slot_zeroed_count_kept"])
    let removed = zeroed.compactMap { z in
      clean.callbacks.first { $0.family == z.family && $0.slot == z.slot }.map { "\($0.family)|\($0.function)" }
    }
    #expect(removed.count == zeroed.count && !removed.isEmpty)
    #expect(Self.keys(events, "removed", callback) == removed.sorted())
    let patched = planted(["patched_ret", "patched_xor_ret"]).map { "\($0.family)|\($0.function)" }
    let disabled = planted(["disabled"]).map { "\($0.family)|\($0.function)" }
    #expect(Self.keys(events, "changed", callback) == (patched + disabled).sorted())
    for case .changed(_, let row, let changes) in events {
      let key = "\(row.entry.family)|\(row.entry.routine)"
      let flag = patched.contains(key) ? "flag +patched-prologue" : "flag +disabled"
      #expect(changes.contains(flag), "\(key): \(changes)")
    }

    // No table event: no process is in both states. And the order is fixed.
    #expect(!events.contains { $0.name.hasPrefix("kct-") })
    let order = [
      "module-unloaded", "module-loaded", "process-exited", "process-started", "removed", "added", "changed",
    ]
    let ranks = events.compactMap { order.firstIndex(of: $0.name) }
    #expect(ranks.count == events.count && ranks == ranks.sorted())
  }

  /// notepad's PEB.KernelCallbackTable moved 8 bytes on (PEB+0x58 on x64), and slot 0 of the other
  /// GUI processes' table (user32's apfnDispatch) set to the private address the kct-hijack truth
  /// plants: one kct-pointer-changed, one kct-slot-changed per other process, nothing else.
  @Test func tablePointerAndSlotChanges() async throws {
    let cleanPath = try TestData.decompressed("images/win10-19041-clean.raw.xz")
    let truth = try Self.truthJSON("clean")
    let hijack = try #require(
      Self.processes(try Self.truthJSON("kct-hijack")).first { $0["name"] as? String == "notepad.exe" })
    let planted = try #require((hijack["kct_differs"] as? [[String: Any]])?.first)
    let plantedValue = try #require(TestData.hex(planted["value"]))
    let user32 = try #require(truth["user32"] as? [String: Any])
    let user32Base = try #require(TestData.hex(user32["base"]))
    let user32Size = try #require(TestData.hex(user32["size"]))

    let dir = try TestData.temporaryDirectory("watch-events")
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("patched.raw").path
    #expect(try TestData.run("/bin/cp", ["--sparse=always", cleanPath, path]).status == 0)
    let gui = Self.processes(truth).filter { $0["kernel_callback_table"] as? String != nil }
    #expect(gui.count == 3)
    let notepad = try #require(gui.first { $0["name"] as? String == "notepad.exe" })
    let table = try #require(TestData.hex(notepad["kernel_callback_table"]))
    let pointerPA = try TestData.physical(
      try #require(TestData.hex(notepad["peb"])) + 0x58, dtb: try #require(TestData.hex(notepad["dtb"])), image: path)
    try TestData.write64(table + 8, at: pointerPA, in: path)
    // Slot 0 of each other GUI process's table: its routine (read with the tests' own walk, before
    // any write: the processes may share the page) lies in user32, and is then replaced.
    var expectedSlots: [String] = []
    var writes: [(UInt64, UInt64)] = []
    let fd = open(path, O_RDONLY)
    for p in gui where p["name"] as? String != "notepad.exe" {
      let dtb = try #require(TestData.hex(p["dtb"]))
      let pa = try TestData.physical(try #require(TestData.hex(p["kernel_callback_table"])), dtb: dtb, image: path)
      let routine = try TestData.read64(fd, pa)
      #expect(routine >= user32Base && routine - user32Base < user32Size, "slot 0 of \(p["name"] ?? "")")
      writes.append((pa, plantedValue))
      expectedSlots.append("\(p["pid"] as? Int ?? -1)|\(p["name"] as? String ?? "")|0|\(routine)|\(plantedValue)")
    }
    close(fd)
    for (pa, value) in writes { try TestData.write64(value, at: pa, in: path) }
    #expect(expectedSlots.count == 2)

    let build = try await TruthCache.shared.truth("clean").buildNumber
    // As `watch` does, the later state is judged against the table the first one found.
    let before = try Self.snapshot(cleanPath, build: build)
    let events = WatchEvent.between(before, try Self.snapshot(path, build: build, expected: before.expectedTable))
    var moved: [String] = []
    var slots: [String] = []
    for event in events {
      switch event {
      case .tablePointerChanged(let before, let after):
        moved.append("\(after.process.pid)|\(after.process.name)|\(before.table)|\(after.table)")
      case .tableSlotChanged(let t, let before, let after):
        slots.append(
          "\(t.process.pid)|\(t.process.name)|\((after ?? before)?.index ?? -1)|\(before?.routine ?? 0)|"
            + "\(after?.routine ?? 0)")
      default: Issue.record("unexpected \(event.name) event")
      }
    }
    #expect(moved == ["\(notepad["pid"] as? Int ?? -1)|notepad.exe|\(table)|\(table + 8)"])
    #expect(slots.sorted() == expectedSlots.sorted())
  }
}
