// The nmi family (KeRegisterNmiCallback): its descriptor.

import BinaryReading
import Symbols
import WindowsKernel

extension FamilyDescriptor {
  /// KNMI_HANDLER_CALLBACK chain from KiNmiCallbackListHead.
  public static let nmi = FamilyDescriptor(
    id: "nmi", title: "NMI callbacks", registration: "KeRegisterNmiCallback",
    heads: [
      FamilyHead(
        "KiNmiCallbackListHead",
        .code(exports: ["KeRegisterNmiCallback", "KeDeregisterNmiCallback"], shape: .singlyLinked))
    ],
    symbols: ["KeRegisterNmiCallback"],
    structs: ["_KNMI_HANDLER_CALLBACK"],
    reader: SinglyLinkedFamily(
      id: "nmi", symbol: "KiNmiCallbackListHead",
      layout: { c throws(WindowsKernelError) in (0, try c.layouts.nmiCallback["Next"]) },
      read: { c, record throws(WindowsKernelError) in
        let l = c.layouts.nmiCallback
        let routine = try c.kernel.readPointer(record &+ (try l["Callback"]))
        var f = c.fields(l, at: record)
        let details: [(String, DetailValue)] = [
          ("context", .address(orNull: f.pointer("Context"))), ("handle", .address(orNull: f.pointer("Handle"))),
        ]
        return (routine, details, f.warnings)
      }))
}
