// The debug-print family (DbgSetDebugPrintCallback): its descriptor.

import BinaryReading
import Symbols
import WindowsKernel

extension FamilyDescriptor {
  /// DbgSetDebugPrintCallback: RTL_CALLBACK_REGISTER, LIST_ENTRY at its end, on RtlpDebugPrintCallbackList.
  public static let debugPrint = FamilyDescriptor(
    id: "debug-print", title: "Debug-print callbacks", registration: "DbgSetDebugPrintCallback",
    heads: [FamilyHead("RtlpDebugPrintCallbackList", .code(exports: ["DbgSetDebugPrintCallback"], shape: .list))],
    symbols: ["DbgSetDebugPrintCallback"],
    structs: ["_RTL_CALLBACK_REGISTER"],
    reader: ListFamily(
      id: "debug-print", symbol: "RtlpDebugPrintCallbackList",
      linkOffset: { c throws(WindowsKernelError) in try c.layouts.debugPrintCallback["ListEntry"] },
      read: { c, record, _ throws(WindowsKernelError) in
        let l = c.layouts.debugPrintCallback
        let routine = try c.kernel.readPointer(record &+ (try l["DebugPrintCallback"]))
        var f = c.fields(l, at: record)
        let flags = f.unsigned("Flags", width: 4)
        return [ListFamily.Row(routine: routine, details: [("flags", .int(orNull: flags))], warnings: f.warnings)]
      }))
}
