// The power-coalescing family (PoRegisterCoalescingCallback): its descriptor.

import BinaryReading
import Symbols
import WindowsKernel

extension FamilyDescriptor {
  /// PO_COALESCING_CALLBACK records on PopCoalRegistrationList (10 RS4+), else the EX_FAST_REF array
  /// PopCoalescingCallbackRoutine.
  public static let powerCoalescing = FamilyDescriptor(
    id: "power-coalescing", title: "Power coalescing callbacks", registration: "PoRegisterCoalescingCallback",
    heads: [
      FamilyHead(
        "PopCoalRegistrationList",
        .code(exports: ["PoRegisterCoalescingCallback", "PoUnregisterCoalescingCallback"], shape: .list),
        builds: 17134...Int.max),
      FamilyHead(
        "PopCoalescingCallbackRoutine",
        .code(
          exports: ["PoRegisterCoalescingCallback", "PoUnregisterCoalescingCallback"],
          shape: .fastRefArray(slots: PowerCoalescingFamily.arraySlots)), builds: 0...17133),
    ],
    symbols: ["PoRegisterCoalescingCallback"],
    reader: PowerCoalescingFamily())
}
