// PoRegisterCoalescingCallback. From Windows 10 RS4 (build 17134) registrations are
// PO_COALESCING_CALLBACK_V2 records on PopCoalRegistrationList; before that, PopCoalescingCallbackRoutine
// is an array of EX_FAST_REF referencing PO_COALESCING_CALLBACK_V1 records — 8 slots before RS3
// (build 16299), 32 from RS3 (facts from WinObjEx64's extrasCallbacks.c / kldbg.h).

import AddressSpace
import BinaryReading
import Symbols
import WindowsKernel

/// Power coalescing callbacks, list or array form.
public struct PowerCoalescingFamily: CallbackFamily {
  public var ids: [String] { ["power-coalescing"] }
  public init() {}

  /// Array slots for a build (the RS3 / 16299 enlargement).
  static func arraySlots(build: Int) -> Int { build != 0 && build < 16299 ? 8 : 32 }

  public func collect(_ c: CallbackContext) -> [FamilyResult] {
    if c.kernel.hasSymbol("PopCoalRegistrationList") { return Self.listForm.collect(c) }
    let head: (address: UInt64, provenance: Provenance)
    do { head = try c.head("PopCoalescingCallbackRoutine") } catch {
      return [
        FamilyResult(
          family: "power-coalescing",
          notLocated: "neither PopCoalRegistrationList nor PopCoalescingCallbackRoutine is in the kernel profile")
      ]
    }
    var result = FamilyResult(family: "power-coalescing")
    let l = c.layouts.coalescingCallback
    let slots: [FastRefSlot]
    do { slots = try c.kernel.space.fastRefSlots(at: head.address, count: Self.arraySlots(build: c.build)) } catch {
      result.warnings.append("PopCoalescingCallbackRoutine at \(Hex.format(head.address)) unreadable: \(error)")
      return [result]
    }
    for entry in slots where entry.value != 0 {
      let (slot, value, record) = (entry.index, entry.value, entry.object)
      let callbackOffset: UInt64
      do { callbackOffset = try l["Callback"] } catch {
        return [FamilyResult(family: "power-coalescing", notLocated: error.description)]
      }
      guard let routine = c.pointer(record &+ callbackOffset) else {
        result.warnings.append("power-coalescing slot \(slot): record at \(Hex.format(record)) unreadable")
        continue
      }
      guard routine != 0 else { continue }
      var f = c.fields(l, at: record)
      let context = f.pointer("Context")
      result.warnings += f.warnings.map { "power-coalescing slot \(slot): \($0)" }
      result.entries.append(
        CallbackEntry(
          family: "power-coalescing", head: head.address, headSymbol: "PopCoalescingCallbackRoutine", index: slot,
          rawValue: value, routine: routine, object: record,
          details: [("context", .address(orNull: context)), ("layout", .string("PO_COALESCING_CALLBACK_V1"))],
          provenance: head.provenance))
    }
    return [result]
  }
}

extension PowerCoalescingFamily {
  /// PoRegisterCoalescingCallback (V2, Windows 10 1803+): PO_COALESCING_CALLBACK on PopCoalRegistrationList.
  static let listForm = ListFamily(
    id: "power-coalescing", symbol: "PopCoalRegistrationList",
    linkOffset: { c throws(WindowsKernelError) in try c.layouts.coalescingCallback["Link"] },
    read: { c, record, _ throws(WindowsKernelError) in
      let l = c.layouts.coalescingCallback
      let routine = try c.kernel.readPointer(record &+ (try l["Callback"]))
      var f = c.fields(l, at: record)
      let ctx = f.pointer("Context")
      let clientOrServer = f.unsigned("ClientOrServer", width: 1)
      return [
        ListFamily.Row(
          routine: routine,
          details: [("context", .address(orNull: ctx)), ("clientOrServer", .int(orNull: clientOrServer))],
          warnings: f.warnings)
      ]
    })
}
