// Every callback planted in the reference images (truth files written independently of CallScope)
// comes out with the right family, routine, owner, slot and details — and nothing else does.

import Analysis
import Callbacks
import Foundation
import TestData
import Testing
import WindowsKernel

@Suite struct TruthCallbacksTests {
  static let images = ["clean", "rootkit", "kct-hijack", "corrupt-proc-loop", "corrupt-reg-dangling"]

  /// The row reporting a planted callback: same family and routine, the same registration record
  /// (truth `object_va`) and, for object callbacks, the same routine kind.
  static func rows(for t: TruthCallback, in rows: [CallbackRow]) -> [Int] {
    rows.indices.filter { i in
      let e = rows[i].entry
      guard e.family == t.family, e.routine == t.function else { return false }
      if let object = t.objectVA, e.object != object { return false }
      if let kind = t.routineKind, e.detail("routineKind") != .string(kind) { return false }
      return true
    }
  }

  @Test(arguments: images)
  func everyPlantedCallbackAndNothingElse(_ name: String) async throws {
    let truth = try await TruthCache.shared.truth(name)
    let scan = try await ScanCache.shared.scan(name)
    let rows = scan.verdicts.rows
    var unmatched = Set(rows.indices)
    for t in truth.callbacks {
      let found = Self.rows(for: t, in: rows)
      if t.anomalies.contains("slot_zeroed_count_kept") {
        // The rootkit zeroed this slot: nothing links the block any more, so only carving (tested in
        // RootkitVerdictsTests) and the counter (a family finding) can show it.
        #expect(found.isEmpty, "\(name): zeroed slot must not be a row: \(t)")
        continue
      }
      #expect(found.count == 1, "\(name): \(t) reported \(found.count) times")
      guard let index = found.first else { continue }
      unmatched.remove(index)
      let row = rows[index]
      Self.expectOwner(row, t, truth)
      if let slot = t.slot { #expect(row.entry.index == slot, "\(name): slot of \(t)") }
      if !t.firstBytes.isEmpty {
        #expect(row.prologue.map { Array($0.prefix(t.firstBytes.count)) } == t.firstBytes, "\(name): bytes of \(t)")
      }
      Self.expectDetails(row.entry, t, name)
    }
    // Nothing that was not planted: empty slots and empty lists are not rows. Families the truth does
    // not describe (dispatch tables the generator fills in passing) are compared with Volatility instead.
    let extras = unmatched.sorted().filter { truth.familiesCovered.contains(rows[$0].entry.family) }.map {
      "\(rows[$0].entry.family) \(TestData.hexString(rows[$0].entry.routine))"
    }
    #expect(extras.isEmpty, "\(name): rows nobody planted: \(extras)")
  }

  @Test(arguments: images)
  func skippedFamiliesAreNotLocatedAndTheRestAre(_ name: String) async throws {
    let truth = try await TruthCache.shared.truth(name)
    let scan = try await ScanCache.shared.scan(name)
    #expect(!truth.familiesSkipped.isEmpty)
    for family in truth.familiesSkipped {
      #expect(scan.family(family)?.notLocated != nil, "\(name): \(family) should be notLocated")
    }
    let located = scan.results.filter { $0.notLocated != nil && truth.familiesCovered.contains($0.family) }
      .map(\.family)
    #expect(Set(located) == Set(truth.familiesSkipped), "\(name): not located: \(located)")
    // Every family the truth plants into is located and read.
    for family in truth.countsByFamily.keys {
      #expect(scan.family(family)?.notLocated == nil, "\(name): \(family)")
    }
  }

  @Test(arguments: ["corrupt-proc-loop", "corrupt-reg-dangling"])
  func corruptImagesStillReportEverything(_ name: String) async throws {
    let truth = try await TruthCache.shared.truth(name)
    let scan = try await ScanCache.shared.scan(name)
    #expect(truth.expectedStillReported.count == 107)
    for t in truth.expectedStillReported {
      let found = scan.verdicts.rows.filter { $0.entry.family == t.family && $0.entry.routine == t.function }
      #expect(!found.isEmpty, "\(name): \(t.family) \(t.functionName) lost")
      if let slot = t.slot { #expect(found.contains { $0.entry.index == slot }, "\(name): \(t.functionName) slot") }
      if let image = t.ownerImage {
        #expect(found.allSatisfy { $0.owner?.module.name == image }, "\(name): owner of \(t.functionName)")
      }
    }
  }

  /// Owner: the PsLoadedModuleList module and offset; none for anonymous memory; for an unlinked
  /// driver (truth `module` null, `owner_image` set) the image found through its driver object.
  static func expectOwner(_ row: CallbackRow, _ t: TruthCallback, _ truth: Truth) {
    if let module = t.module {
      #expect(row.owner?.module.name == module, "owner of \(t)")
      #expect(row.owner?.offset == t.moduleOffset, "offset of \(t)")
      #expect(row.owner?.module.origin == .loadedModuleList, "origin of \(t)")
    } else if let image = t.ownerImage {
      let planted = truth.modules.first { $0.name == image }
      #expect(planted?.inLoadedModuleList == false, "\(image) should be unlinked in the truth")
      #expect(row.owner?.module.base == planted?.base, "owner of \(t)")
      #expect(row.owner.map { t.function - $0.module.base } == row.owner?.offset)
      #expect(row.owner?.module.origin != .loadedModuleList, "origin of \(t)")
      // Driver objects and carved loader entries both name the image after its file (`evil.sys`).
      #expect(row.owner?.module.name == image, "name of \(t): \(row.owner?.module.name ?? "nil")")
    } else {
      #expect(row.owner == nil, "\(t) lies in anonymous memory")
    }
  }

  /// Family-specific details against the truth's `extra`.
  static func expectDetails(_ e: CallbackEntry, _ t: TruthCallback, _ name: String) {
    func number(_ key: String) -> UInt64? {
      switch e.detail(key) {
      case .address(let v): return v
      case .int(let v): return UInt64(bitPattern: v)
      default: return nil
      }
    }
    func text(_ key: String) -> String? {
      if case .string(let s) = e.detail(key) { return s }
      return nil
    }
    func same(_ ours: String, _ theirs: String) {
      #expect(number(ours) == t.number(theirs), "\(name): \(ours) of \(t)")
    }
    func sameText(_ ours: String, _ theirs: String) {
      #expect(text(ours) == t.extra[theirs], "\(name): \(ours) of \(t)")
    }
    // Heads: the kernel variable (or list; for PnP the hash bucket) the entry hangs from.
    switch t.family {
    case "callback-object":
      break  // truth head is the object directory; the object itself is checked below
    default:
      #expect(e.head == t.headVA, "\(name): head of \(t)")
      #expect(e.headSymbol == t.headSymbol, "\(name): head symbol of \(t)")
    }
    #expect(e.object == t.objectVA, "\(name): record of \(t)")
    switch t.family {
    case "process-notify", "thread-notify", "image-notify":
      same("context", "context")
      #expect(e.rawValue == t.number("slot_value"), "\(name): EX_FAST_REF of \(t)")
      if t.family == "process-notify" {
        // PsSetCreateProcessNotifyRoutineEx marks its blocks with Context flag 2; the legacy call with 0.
        #expect(text("flavour") == (t.number("context") == 2 ? "Ex" : "legacy"), "\(name): flavour of \(t)")
      }
    case "bugcheck":
      sameText("component", "component")
      same("buffer", "buffer")
      same("length", "length")
      same("state", "state")
    case "bugcheck-reason":
      sameText("component", "component")
      same("reason", "reason")
    case "registry":
      sameText("altitude", "altitude")
      same("cookie", "cookie")
    case "object-process", "object-thread", "object-desktop":
      sameText("routineKind", "operation")
      #expect(text("routineKind") == t.routineKind)
      same("operations", "operations")
      #expect(e.detail("enabled") == .bool(t.extra["enabled"] == "1"), "\(name): enabled of \(t)")
      sameText("altitude", "altitude")
      same("registration", "registration")
      same("objectType", "object_type_va")
      #expect(e.head == t.number("callback_list"))
    case "shutdown", "last-chance-shutdown":
      same("deviceObject", "device_object")
      same("driverObject", "driver_object")
      sameText("driverName", "driver_name")
      same("irpMajor", "irp_mj")
    case "fs-registration":
      same("driverObject", "driver_object")
    case "power-setting":
      sameText("guid", "guid")
      sameText("layout", "layout")
    case "callback-object":
      sameText("object", "callback_object")
      same("callbackObject", "callback_object_va")
      same("context", "context")
    case "nmi":
      same("context", "context")
      same("handle", "handle")
    case "pnp-device-class":
      same("bucket", "bucket")
      sameText("classGuid", "class_guid")
      sameText("classGuidName", "class_guid_name")
      sameText("eventCategory", "event_category")
      same("context", "context")
      same("driverObject", "driver_object")
    case "pnp-profile":
      sameText("eventCategory", "event_category")
      same("context", "context")
      same("driverObject", "driver_object")
    case "ci", "pico":
      #expect(number("index") == t.slot.map(UInt64.init), "\(name): index of \(t)")
      same("tableSize", "table_size")
    case "alt-syscall":
      #expect(number("index") == t.slot.map(UInt64.init), "\(name): index of \(t)")
    case "emp":
      sameText("callbackId", "callback_id")
      same("context", "context")
    case "ex-host":
      #expect(number("index") == t.slot.map(UInt64.init), "\(name): index of \(t)")
      same("hostId", "host_id")
      same("hostVersion", "host_version")
      same("functionCount", "function_count")
      same("functionTable", "function_table")
    case "silo-monitor":
      sameText("name", "routine")
      sameText("componentName", "component_name")
      same("version", "version")
    case "power-coalescing", "logon-session-terminated-ex":
      same("context", "context")
    case "filesystem-disk", "filesystem-cdrom", "filesystem-network", "filesystem-tape":
      same("deviceObject", "device_object")
      sameText("deviceName", "device_name")
      same("driverObject", "driver_object")
      sameText("driverName", "driver_name")
      sameText("reportedAddress", "reported_address")
    default:
      break
    }
  }
}
