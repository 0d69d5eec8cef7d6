// `callbacks --carve` on the reference images: the same blocks and orphans for any job count,
// every planted block found, orphaned CALLBACK_REGISTRATIONs (a callback object's list emptied)
// reported under their object, and carved notify blocks assigned to an array only on evidence.

import Callbacks
import Foundation
import MemoryImage
import TestData
import Testing
import WindowsKernel

@Suite struct CarveTests {
  /// Carves `scan` with `jobs` jobs: the pool hits, the orphans and the carved loader entries.
  static func carve(_ scan: CallbackScan, build: Int, jobs: Int) -> (
    hits: [PoolHit], outcome: CallbackCarver.Outcome, modules: [LoadedModule]
  ) {
    let tags = Set(CallbackCarver.tags.keys).union([ModuleCarver.tag])
    let hits = PoolScanner.scan(scan.memory, tags: tags, pointerSize: scan.kernel.pointerSize, jobs: jobs)
    let outcome = CallbackCarver.carve(
      CallbackContext(kernel: scan.kernel, build: build), hits: hits, results: scan.results)
    let linked = Set(((try? ModuleList.read(scan.kernel).modules) ?? []).map(\.base))
    return (hits, outcome, ModuleCarver.carve(scan.kernel, hits: hits, excluding: linked))
  }

  /// The callbacks of a truth file.
  static func truthCallbacks(_ name: String) throws -> [[String: Any]] {
    let top = try #require(try TestData.json(TestData.shared("images/\(name).truth.json").path) as? [String: Any])
    return try #require(top["callbacks"] as? [[String: Any]])
  }

  @Test(arguments: ["win10-19041-clean", "win10-19041-rootkit"])
  func sameResultForOneAndTwoJobs(_ name: String) throws {
    let clean = try CleanImage.get()
    let path = try TestData.decompressed("images/\(name).raw.xz")
    let scan = try CallbackScan(path: path, build: clean.build)
    let one = Self.carve(scan, build: clean.build, jobs: 1)
    let two = Self.carve(scan, build: clean.build, jobs: 2)
    #expect(one.hits == two.hits)
    #expect(one.hits.map(\.header) == one.hits.map(\.header).sorted())
    #expect(one.outcome.orphaned == two.outcome.orphaned)
    #expect(one.outcome.linkedCount == two.outcome.linkedCount)
    #expect(one.modules == two.modules)

    // Every planted callback block and registration (truth object_va) is among the hits, and linked.
    let blocks = Set(one.hits.map { $0.header + 16 })
    let truth = try Self.truthCallbacks(name).filter {
      ["process-notify", "thread-notify", "image-notify", "callback-object"].contains($0["callscope_family"] as? String)
    }
    #expect(truth.count >= 19)
    for record in truth {
      let va = try #require(TestData.hex(record["object_va"]))
      #expect(blocks.contains(try scan.kernel.space.translate(va).physical), "\(record["function_name"] ?? va)")
    }
    // The only orphan of either image: the block behind the rootkit's zeroed thread-notify slot.
    let zeroed = truth.filter { ($0["anomalies"] as? [String])?.contains("slot_zeroed_count_kept") == true }
    #expect(one.outcome.orphaned.map(\.routine) == zeroed.compactMap { TestData.hex($0["function"]) })
    #expect(one.outcome.orphaned.allSatisfy { $0.detail("linked") == .bool(false) })
    // The rootkit's unlinked driver comes back from its MmLd entry.
    let unlinked = try Self.truthCallbacks(name).filter {
      ($0["anomalies"] as? [String])?.contains("unlinked_module") == true
    }
    if let function = unlinked.first.flatMap({ TestData.hex($0["function"]) }) {
      #expect(one.modules.contains { $0.base <= function && function < $0.base + $0.size })
    } else {
      #expect(one.modules.isEmpty)
    }
  }

  @Test func registrationsOfAnEmptiedCallbackObjectAreOrphans() throws {
    let clean = try CleanImage.get()
    let records = try Self.truthCallbacks("win10-19041-clean").filter {
      ($0["extra"] as? [String: Any])?["callback_object"] as? String == "\\Callback\\SetSystemTime"
    }
    try #require(records.count == 2)
    // The object's RegisteredCallbacks head (truth head_va) self-linked: its list looks empty.
    let head = try #require(TestData.hex(records[0]["head_va"]))
    let path = try clean.patchedCopy("cbre-orphans", [(head, CleanImage.le64(head) + CleanImage.le64(head))])
    defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
    let scan = try CallbackScan(path: path, build: clean.build)
    let listed = scan.family("callback-object")?.entries.filter { $0.head == head } ?? []
    #expect(listed.isEmpty)
    for jobs in [1, 2] {
      let orphans = Self.carve(scan, build: clean.build, jobs: jobs).outcome.orphaned
      #expect(orphans.count == 2)
      for record in records {
        let extra = try #require(record["extra"] as? [String: Any])
        let function = try #require(TestData.hex(record["function"]))
        let row = try #require(orphans.first { $0.routine == function }, "orphan for \(function)")
        #expect(row.family == "callback-object")
        #expect(row.detail("carve") == .string("orphaned"))
        #expect(row.detail("linked") == .bool(false))
        #expect(row.detail("object") == .string("\\Callback\\SetSystemTime"))
        #expect(row.detail("callbackObject") == TestData.hex(extra["callback_object_va"]).map(DetailValue.address))
        #expect(row.detail("context") == TestData.hex(extra["context"]).map(DetailValue.address))
        #expect(row.detail("poolTag") == .string("CBRe"))
        #expect(row.head == head)
        #expect(row.headSymbol == "\\Callback\\SetSystemTime")
      }
    }
  }

  @Test func notifyBlocksNameTheirArrayOnlyOnEvidence() throws {
    let clean = try CleanImage.get()
    // Two process-notify slots emptied: one registered with Ex flags in its Context, one legacy.
    let all = try Self.truthCallbacks("win10-19041-clean").filter {
      $0["callscope_family"] as? String == "process-notify"
    }
    let ex = try #require(all.first { ($0["extra"] as? [String: Any])?["context"] as? Int == 2 })
    let legacy = try #require(all.first { ($0["extra"] as? [String: Any])?["context"] as? Int == 0 })
    var patches: [(va: UInt64, bytes: [UInt8])] = []
    for record in [ex, legacy] {
      let head = try #require(TestData.hex(record["head_va"]))
      let slot = try #require(record["slot"] as? Int)
      patches.append((head + UInt64(slot) * 8, CleanImage.le64(0)))
    }
    let path = try clean.patchedCopy("cbrb-array", patches)
    defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
    let scan = try CallbackScan(path: path, build: clean.build)
    let orphans = Self.carve(scan, build: clean.build, jobs: 2).outcome.orphaned
    #expect(orphans.count == 2)
    let exRow = try #require(orphans.first { $0.routine == TestData.hex(ex["function"]) })
    #expect(exRow.family == "notify-block")
    #expect(exRow.detail("array") == .string("process-notify"))
    #expect(exRow.detail("context") == .address(2))
    let legacyRow = try #require(orphans.first { $0.routine == TestData.hex(legacy["function"]) })
    #expect(legacyRow.detail("array") == .string("unknown"))
  }
}
