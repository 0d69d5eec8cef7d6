// The emp family (EmProviderRegister): its descriptor.

import BinaryReading
import Symbols
import WindowsKernel

extension FamilyDescriptor {
  /// EMP_CALLBACK_DB_RECORD chain (through its `List` SINGLE_LIST_ENTRY) from EmpCallbackListHead.
  public static let errataManager = FamilyDescriptor(
    id: "emp", title: "Errata manager provider callbacks", registration: "EmProviderRegister",
    heads: [
      FamilyHead(
        "EmpCallbackListHead", .code(exports: ["EmProviderRegister", "EmProviderDeregister"], shape: .singlyLinked))
    ],
    symbols: ["EmProviderRegister"],
    reader: SinglyLinkedFamily(
      id: "emp", symbol: "EmpCallbackListHead",
      layout: { c throws(WindowsKernelError) in (try c.layouts.empCallbackRecord["List"], 0) },
      read: { c, record throws(WindowsKernelError) in
        let l = c.layouts.empCallbackRecord
        let routine = try c.kernel.readPointer(record &+ (try l["CallbackFunc"]))
        var f = c.fields(l, at: record)
        var callbackId: String?
        if let va = f.address(of: "CallbackId") {
          callbackId = c.guid(va)
          if callbackId == nil { f.unreadable("CallbackId", at: va, reason: "16 bytes not readable") }
        }
        let details: [(String, DetailValue)] = [
          ("callbackId", .string(orNull: callbackId)), ("context", .address(orNull: f.pointer("Context"))),
        ]
        return (routine, details, f.warnings)
      }))
}
