// The pnp-device-class family (IoRegisterPlugPlayNotification (device interface change)): its descriptor.

import BinaryReading
import Symbols
import WindowsKernel

extension FamilyDescriptor {
  /// 13 LIST_ENTRY buckets of notify entries (IO_NOTIFICATION_EVENT_CATEGORY EventCategoryDeviceInterfaceChange = 2).
  public static let pnpDeviceClass = FamilyDescriptor(
    id: "pnp-device-class", title: "PnP device-interface change notifications",
    registration: "IoRegisterPlugPlayNotification (device interface change)",
    heads: [
      FamilyHead(
        "PnpDeviceClassNotifyList",
        .code(
          exports: ["IoRegisterPlugPlayNotification"], shape: .buckets(PnPNotifyFamily.bucketCount), condition: 2,
          discriminator: .eventCategory(2)))
    ],
    symbols: ["IoRegisterPlugPlayNotification"],
    structs: ["_DEVICE_CLASS_NOTIFY_ENTRY"],
    reader: PnPNotifyFamily.deviceClass)
}
