// PoRegisterCoalescingCallback. From Windows 10 RS4 (build 17134) registrations are
// PO_COALESCING_CALLBACK_V2 records on PopCoalRegistrationList; before that, PopCoalescingCallbackRoutine
// is an array of EX_FAST_REF referencing PO_COALESCING_CALLBACK_V1 records — 8 slots before RS3
// (build 16299), 32 from RS3 (facts from WinObjEx64's extrasCallbacks.c / kldbg.h).

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
    if c.kernel.hasSymbol("PopCoalRegistrationList") { return ListFamily.powerCoalescing.collect(c) }
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
    let refMask: UInt64 = c.pointerSize == 8 ? 0xf : 0x7
    for slot in 0..<Self.arraySlots(build: c.build) {
      let address = head.address &+ UInt64(slot) &* c.pointerSize
      guard let value = c.pointer(address) else {
        result.warnings.append("PopCoalescingCallbackRoutine slot \(slot) at \(Hex.format(address)) unreadable")
        break
      }
      guard value != 0 else { continue }
      let record = value & ~refMask
      guard let routine = c.pointer(record &+ l["Callback"]) else {
        result.warnings.append("power-coalescing slot \(slot): record at \(Hex.format(record)) unreadable")
        continue
      }
      guard routine != 0 else { continue }
      let context = c.pointer(record &+ l["Context"]) ?? 0
      result.entries.append(
        CallbackEntry(
          family: "power-coalescing", head: head.address, headSymbol: "PopCoalescingCallbackRoutine", index: slot,
          rawValue: value, routine: routine, object: record,
          details: [("context", .address(context)), ("layout", .string("PO_COALESCING_CALLBACK_V1"))],
          provenance: head.provenance))
    }
    return [result]
  }
}
