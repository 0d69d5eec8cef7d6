// The registry family (CmRegisterCallback(Ex)): its descriptor.

import BinaryReading
import Symbols
import WindowsKernel

extension FamilyDescriptor {
  /// CmRegisterCallback(Ex): CM_CALLBACK_CONTEXT_BLOCK on CallbackListHead (Vista and later).
  public static let registry = FamilyDescriptor(
    id: "registry", title: "Registry callbacks", registration: "CmRegisterCallback(Ex)",
    heads: [
      FamilyHead(
        "CallbackListHead",
        .code(exports: ["CmRegisterCallbackEx", "CmRegisterCallback", "CmUnRegisterCallback"], shape: .list))
    ],
    symbols: [
      "CmpCallBackVector", "CmpCallBackCount", "CmpCallbackCount", "CmRegisterCallback", "CmRegisterCallbackEx",
      "CmUnRegisterCallback", "CmpRegisterCallbackInternal", "CmpInsertCallbackInListByAltitude",
    ],
    structs: ["_CM_CALLBACK_CONTEXT_BLOCK"],
    recipes: { _ in [FamilyHeadLocators.registryCounter] },
    reader: ListFamily(
      id: "registry", symbol: "CallbackListHead",
      linkOffset: { c throws(WindowsKernelError) in try c.layouts.registryCallback["CallbackListEntry"] },
      read: { c, record, _ throws(WindowsKernelError) in
        let l = c.layouts.registryCallback
        let routine = try c.kernel.readPointer(record &+ (try l["Function"]))
        var f = c.fields(l, at: record)
        let cookie = f.unsigned("Cookie", width: 8)
        let altitude = f.unicodeString("Altitude")
        let callerContext = f.pointer("CallerContext")
        return [
          ListFamily.Row(
            routine: routine,
            details: [
              ("altitude", .string(orNull: altitude)), ("cookie", .address(orNull: cookie)),
              ("context", .address(orNull: callerContext)),
            ], warnings: f.warnings)
        ]
      }))
}
