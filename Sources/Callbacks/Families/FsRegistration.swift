// The fs-registration family (IoRegisterFsRegistrationChange): its descriptor.

import BinaryReading
import Symbols
import WindowsKernel

extension FamilyDescriptor {
  /// IoRegisterFsRegistrationChange: NOTIFICATION_PACKET on IopFsNotifyChangeQueueHead.
  public static let fsRegistration = FamilyDescriptor(
    id: "fs-registration", title: "File-system registration change routines",
    registration: "IoRegisterFsRegistrationChange",
    heads: [
      FamilyHead(
        "IopFsNotifyChangeQueueHead",
        .code(
          exports: [
            "IoRegisterFsRegistrationChange", "IoRegisterFsRegistrationChangeMountAware",
            "IoUnregisterFsRegistrationChange",
          ], shape: .list))
    ],
    symbols: ["IoRegisterFsRegistrationChange", "IoRegisterFsRegistrationChangeMountAware"],
    structs: ["_NOTIFICATION_PACKET"],
    reader: ListFamily(
      id: "fs-registration", symbol: "IopFsNotifyChangeQueueHead",
      linkOffset: { c throws(WindowsKernelError) in try c.layouts.notificationPacket["ListEntry"] },
      read: { c, record, _ throws(WindowsKernelError) in
        let l = c.layouts.notificationPacket
        let routine = try c.kernel.readPointer(record &+ (try l["NotificationRoutine"]))
        var f = c.fields(l, at: record)
        let driver = f.pointer("DriverObject")
        return [
          ListFamily.Row(routine: routine, details: DriverObjects.details(c, driver: driver), warnings: f.warnings)
        ]
      }))
}
