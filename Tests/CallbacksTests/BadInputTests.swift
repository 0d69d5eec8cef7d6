// Broken copies of the clean reference image, one defect each: the damaged family gets a warning,
// every other family comes out exactly as on the clean image (whose rows equal the truth file's,
// see AnalysisTests), and nothing crashes or hangs.

import AddressSpace
import Callbacks
import Foundation
import TestData
import Testing
import WindowsKernel

@Suite(.timeLimit(.minutes(1))) struct BadInputTests {
  /// Scans a patched copy and checks the families other than `damaged` against the clean run and the
  /// truth; returns the scan for the damaged family's own checks.
  func scanPatched(_ label: String, damaged: String, _ patches: [(va: UInt64, bytes: [UInt8])]) throws -> CallbackScan {
    let clean = try CleanImage.get()
    let path = try clean.patchedCopy(label, patches)
    defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
    let scan = try CallbackScan(path: path, build: clean.build)
    let cleanRoutines = clean.scan.routines
    let planted = clean.plantedRoutines
    for (family, routines) in scan.routines where family != damaged {
      #expect(routines == cleanRoutines[family], "\(label): \(family) differs from the clean run")
      // The table families (dispatch slots the truth does not list) are compared with Volatility elsewhere.
      guard FamilyDescriptor.named(family)?.listing != .deviations else { continue }
      #expect(routines.sorted() == (planted[family] ?? []).sorted(), "\(label): \(family) differs from the truth")
    }
    #expect(Set(scan.routines.keys) == Set(cleanRoutines.keys), "\(label): located families changed")
    let warned = scan.results.filter { !$0.warnings.isEmpty }.map(\.family)
    #expect(warned == [damaged], "\(label): warnings on \(warned): \(scan.results.flatMap(\.warnings))")
    return scan
  }

  @Test func registryListLoopsBackToAnEarlierEntry() throws {
    let clean = try CleanImage.get()
    let records = clean.planted("registry")
    try #require(records.count == 2)
    let first = try #require(records.first?.objectVA)
    let last = try #require(records.last?.objectVA)
    // CM_CALLBACK_CONTEXT_BLOCK.CallbackListEntry is at +0: the last block's Flink goes back to the head.
    #expect(try clean.scan.kernel.readPointer(last) == records.first?.headVA)
    let scan = try scanPatched("reg-loop", damaged: "registry", [(last, CleanImage.le64(first))])
    let result = try #require(scan.family("registry"))
    #expect(result.warnings.contains { $0.contains("loops") }, "\(result.warnings)")
    // The Blink chain is intact: both callbacks are still found, once each.
    #expect(result.entries.map(\.routine).sorted() == records.map(\.function).sorted())
  }

  @Test func danglingFlinkIntoUnmappedMemory() throws {
    let clean = try CleanImage.get()
    let records = clean.planted("bugcheck-reason")
    try #require(records.count == 3)
    let first = try #require(records.first?.objectVA)
    // A kernel VA with no mapping in this image (the truth of corrupt-reg-dangling uses it).
    let unmapped: UInt64 = 0xffff_952c_7c80_05a0
    #expect(throws: TranslationError.self) { try clean.scan.kernel.space.translate(unmapped) }
    let scan = try scanPatched("dangling", damaged: "bugcheck-reason", [(first, CleanImage.le64(unmapped))])
    let result = try #require(scan.family("bugcheck-reason"))
    #expect(result.warnings.contains { $0.contains("unreadable") }, "\(result.warnings)")
    #expect(result.entries.map(\.routine).sorted() == records.map(\.function).sorted())
  }

  @Test func zeroFilledPageUnderTheRegistryBlocks() throws {
    let clean = try CleanImage.get()
    let records = clean.planted("registry")
    let pages = Set(records.compactMap { $0.objectVA.map { $0 & ~0xfff } })
    try #require(pages.count == 1)
    // That page holds no other family's records (checked against the truth).
    let page = try #require(pages.first)
    #expect(clean.callbacks.allSatisfy { $0.family == "registry" || ($0.objectVA ?? 0) & ~0xfff != page })
    let scan = try scanPatched("zero-page", damaged: "registry", [(page, [UInt8](repeating: 0, count: 0x1000))])
    let result = try #require(scan.family("registry"))
    #expect(result.entries.isEmpty)
    #expect(!result.warnings.isEmpty)
  }

  @Test func zeroFilledCallbackBlockBehindALiveSlot() throws {
    let clean = try CleanImage.get()
    let victim = try #require(clean.planted("process-notify").first { $0.slot == 3 })
    let block = try #require(victim.objectVA)
    // EX_CALLBACK_ROUTINE_BLOCK is 0x18 bytes on x64 (ntos.h); the slot still references it.
    let scan = try scanPatched(
      "zero-block", damaged: "process-notify", [(block, [UInt8](repeating: 0, count: 0x18))])
    let result = try #require(scan.family("process-notify"))
    #expect(result.warnings.contains { $0.contains("slot 3") }, "\(result.warnings)")
    let others = clean.planted("process-notify").filter { $0.slot != 3 }.map(\.function)
    #expect(result.entries.map(\.routine) == others)
  }

  @Test func bothDirectionsOfTheRegistryListDangle() throws {
    let clean = try CleanImage.get()
    let records = clean.planted("registry")
    try #require(records.count == 2)
    let first = try #require(records.first?.objectVA)
    let last = try #require(records.last?.objectVA)
    let unmapped: UInt64 = 0xffff_952c_7c80_05a0
    // The first block's Flink and the last block's Blink (LIST_ENTRY at +0: Blink at +8) dangle.
    let scan = try scanPatched(
      "reg-both", damaged: "registry",
      [(first, CleanImage.le64(unmapped)), (last + 8, CleanImage.le64(unmapped + 0x40))])
    let result = try #require(scan.family("registry"))
    #expect(!result.warnings.isEmpty)
    // Each block is still reached from one side; the dangling targets are not rows.
    #expect(result.entries.map(\.routine).sorted() == records.map(\.function).sorted())
  }

  @Test func smearedFunctionPointerInACallbackBlock() throws {
    let clean = try CleanImage.get()
    let victim = try #require(clean.planted("process-notify").first { $0.slot == 2 })
    let block = try #require(victim.objectVA)
    let function = block + 8  // EX_CALLBACK_ROUTINE_BLOCK.Function on x64 (ntos.h; Volatility +8)
    #expect(try clean.scan.kernel.readPointer(function) == victim.function)
    let garbage: UInt64 = 0x4141_4141_4141_4141  // not a canonical address
    let scan = try scanPatched("smear", damaged: "process-notify", [(function, CleanImage.le64(garbage))])
    let result = try #require(scan.family("process-notify"))
    #expect(result.warnings.contains { $0.contains("0x4141414141414141") }, "\(result.warnings)")
    // The other slots are intact; the smeared one is no row (the kernel could never call it).
    let others = clean.planted("process-notify").filter { $0.slot != 2 }.map(\.function)
    #expect(result.entries.map(\.routine) == others)
  }

  @Test func selfLinkedFlinkOfAListHead() throws {
    let clean = try CleanImage.get()
    let records = clean.planted("fs-registration")
    try #require(records.count == 2)
    let head = try #require(records.first?.headVA)
    // Flink points at the head itself (the list looks empty forward) while Blink still leads to the entries.
    let scan = try scanPatched("self-flink", damaged: "fs-registration", [(head, CleanImage.le64(head))])
    let result = try #require(scan.family("fs-registration"))
    #expect(!result.warnings.isEmpty)
    #expect(result.entries.map(\.routine).sorted() == records.map(\.function).sorted())
  }

  @Test func fullySelfLinkedListHeadIsFoundByCarving() throws {
    let clean = try CleanImage.get()
    let records = clean.planted("fs-registration")
    let head = try #require(records.first?.headVA)
    let patch = CleanImage.le64(head) + CleanImage.le64(head)  // Flink and Blink: an "empty" list
    let path = try clean.patchedCopy("self-linked", [(head, patch)])
    defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
    let scan = try CallbackScan(path: path, build: clean.build)
    // An emptied head is a valid empty list: nothing to warn about in the walk itself …
    #expect(scan.family("fs-registration")?.entries.isEmpty == true)
    // … but the unlinked NOTIFICATION_PACKETs are still in pool: carving reports them as orphans.
    let hits = PoolScanner.scan(scan.memory, tags: Set(CallbackCarver.tags.keys), pointerSize: scan.kernel.pointerSize)
    let outcome = CallbackCarver.carve(
      CallbackContext(kernel: scan.kernel, build: clean.build), hits: hits, results: scan.results)
    let orphans = outcome.orphaned.filter { $0.family == "fs-registration" }
    #expect(orphans.map(\.routine).sorted() == records.map(\.function).sorted())
    #expect(outcome.orphaned.count == orphans.count)
  }

  @Test func absurdSeCiCallbacksSize() throws {
    let clean = try CleanImage.get()
    let records = clean.planted("ci")
    let head = try #require(records.first?.headVA)
    let scan = try scanPatched("ci-size", damaged: "ci", [(head, CleanImage.le32(0xffff_fff0))])
    let result = try #require(scan.family("ci"))
    #expect(result.warnings.contains { $0.contains("implausible") }, "\(result.warnings)")
    // The real table is still read; the read stops at the cap instead of running through memory.
    #expect(Set(records.map(\.function)).isSubset(of: Set(result.entries.map(\.routine))))
    #expect(result.entries.count <= 128)
  }

  @Test func tooSmallSeCiCallbacksSize() throws {
    let clean = try CleanImage.get()
    let head = try #require(clean.planted("ci").first?.headVA)
    let scan = try scanPatched("ci-small", damaged: "ci", [(head, CleanImage.le32(4))])
    let result = try #require(scan.family("ci"))
    #expect(result.entries.isEmpty)
    #expect(result.warnings.contains { $0.contains("too small") }, "\(result.warnings)")
  }

  @Test func nmiListLoops() throws {
    let clean = try CleanImage.get()
    let records = clean.planted("nmi")
    try #require(records.count == 2)
    let first = try #require(records.first?.objectVA)
    let last = try #require(records.last?.objectVA)
    // KNMI_HANDLER_CALLBACK.Next is at +0; the last node's Next (null) now points back to the first.
    #expect(try clean.scan.kernel.readPointer(last) == 0)
    let scan = try scanPatched("nmi-loop", damaged: "nmi", [(last, CleanImage.le64(first))])
    let result = try #require(scan.family("nmi"))
    #expect(result.warnings.contains { $0.contains("loops") }, "\(result.warnings)")
    #expect(result.entries.map(\.routine) == records.map(\.function))
  }

  @Test func dispatchTablesInUnmappedMemory() throws {
    // CSAgent's driver object (the truth's module entry names it) gets a FAST_IO_DISPATCH pointer and
    // a DriverExtension pointer into unmapped memory: two warnings, the same dispatch rows.
    let clean = try CleanImage.get()
    let truth = try #require(
      try TestData.json(TestData.shared("images/win10-19041-clean.truth.json").path) as? [String: Any])
    let modules = try #require(truth["modules"] as? [[String: Any]])
    let driver = try #require(
      modules.first { $0["name"] as? String == "csagent.sys" }?["driver_object"] as? String
    ).dropFirst(2)
    let object = try #require(UInt64(driver, radix: 16))
    let kernel = clean.scan.kernel
    let unmapped: UInt64 = 0xFFFF_F8FF_DEAD_0000
    let scan = try scanPatched(
      "irp-unmapped", damaged: "irp-dispatch",
      [
        (object + (try kernel.offset("_DRIVER_OBJECT", "FastIoDispatch")), CleanImage.le64(unmapped)),
        (object + (try kernel.offset("_DRIVER_OBJECT", "DriverExtension")), CleanImage.le64(unmapped + 0x100)),
      ])
    let result = try #require(scan.family("irp-dispatch"))
    #expect(result.warnings.count == 2, "\(result.warnings)")
    #expect(result.warnings.contains { $0.contains("_FAST_IO_DISPATCH") && $0.contains("unreadable") })
    #expect(result.warnings.contains { $0.contains("_DRIVER_EXTENSION.AddDevice") })
    #expect(result.entries.map(\.routine) == clean.scan.family("irp-dispatch")?.entries.map(\.routine))
  }
}
