// The bugcheck family (KeRegisterBugCheckCallback): its descriptor.

import BinaryReading
import Symbols
import WindowsKernel

extension FamilyDescriptor {
  /// KeRegisterBugCheckCallback: KBUGCHECK_CALLBACK_RECORD on KeBugCheckCallbackListHead (member offsets
  /// from the profile when the PDB has the type, else the public wdm.h layout).
  public static let bugcheck = FamilyDescriptor(
    id: "bugcheck", title: "Bug-check callbacks", registration: "KeRegisterBugCheckCallback",
    heads: [
      FamilyHead(
        "KeBugCheckCallbackListHead",
        .code(exports: ["KeRegisterBugCheckCallback", "KeDeregisterBugCheckCallback"], shape: .list))
    ],
    symbols: ["KeBugCheckCallbackLock", "KeRegisterBugCheckCallback"],
    structs: ["_KBUGCHECK_CALLBACK_RECORD"],
    reader: ListFamily(
      id: "bugcheck", symbol: "KeBugCheckCallbackListHead",
      linkOffset: { c throws(WindowsKernelError) in
        try c.offset("_KBUGCHECK_CALLBACK_RECORD", "Entry")
      },
      read: { c, record, _ throws(WindowsKernelError) in
        let name = "_KBUGCHECK_CALLBACK_RECORD"
        let routine = try c.kernel.readPointer(
          record &+ (try c.offset(name, "CallbackRoutine")))
        var f = FieldReads(c, profileStruct: name, at: record)
        let component = f.pointer("Component").flatMap { c.cString($0) }
        let buffer = f.pointer("Buffer")
        let length = f.unsigned("Length", width: 4)
        let state = f.unsigned("State", width: 1)
        return [
          ListFamily.Row(
            routine: routine,
            details: [
              ("component", .string(orNull: component)), ("buffer", .address(orNull: buffer)),
              ("length", .int(orNull: length)), ("state", .int(orNull: state)),
            ], warnings: f.warnings)
        ]
      }))
}
