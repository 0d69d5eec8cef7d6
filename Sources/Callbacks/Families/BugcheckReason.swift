// The bugcheck-reason family (KeRegisterBugCheckReasonCallback): its descriptor.

import BinaryReading
import Symbols
import WindowsKernel

extension FamilyDescriptor {
  /// KeRegisterBugCheckReasonCallback: KBUGCHECK_REASON_CALLBACK_RECORD (profile, else wdm.h layout).
  public static let bugcheckReason = FamilyDescriptor(
    id: "bugcheck-reason", title: "Bug-check reason callbacks (dump and secondary data)",
    registration: "KeRegisterBugCheckReasonCallback",
    heads: [
      FamilyHead(
        "KeBugCheckReasonCallbackListHead",
        .code(exports: ["KeRegisterBugCheckReasonCallback", "KeDeregisterBugCheckReasonCallback"], shape: .list))
    ],
    symbols: ["KeRegisterBugCheckReasonCallback"],
    structs: ["_KBUGCHECK_REASON_CALLBACK_RECORD"],
    reader: BugcheckReasonFamily.reader(id: "bugcheck-reason", symbol: "KeBugCheckReasonCallbackListHead"))
}

/// The readers of KBUGCHECK_REASON_CALLBACK_RECORD lists (the reason callbacks, and the add-pages
/// and remove-pages callbacks Windows 8.1 on keeps on a list of their own).
enum BugcheckReasonFamily {
  static func reader(id: String, symbol: String) -> ListFamily {
    ListFamily(
      id: id, symbol: symbol,
      linkOffset: { c throws(WindowsKernelError) in
        try c.offset("_KBUGCHECK_REASON_CALLBACK_RECORD", "Entry")
      },
      read: { c, record, _ throws(WindowsKernelError) in
        let name = "_KBUGCHECK_REASON_CALLBACK_RECORD"
        let routine = try c.kernel.readPointer(
          record &+ (try c.offset(name, "CallbackRoutine")))
        var f = FieldReads(c, profileStruct: name, at: record)
        let component = f.pointer("Component").flatMap { c.cString($0) }
        let reason = f.unsigned("Reason", width: 4)
        return [
          ListFamily.Row(
            routine: routine,
            details: [
              ("component", .string(orNull: component)), ("reason", .int(orNull: reason)),
              ("reasonName", reason.map { .string(BugCheckReason.name($0)) } ?? .null),
            ], warnings: f.warnings)
        ]
      })
  }
}
