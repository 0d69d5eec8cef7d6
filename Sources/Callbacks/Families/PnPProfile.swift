// The pnp-profile family (IoRegisterPlugPlayNotification (hardware profile change)): its descriptor.

import BinaryReading
import Symbols
import WindowsKernel

extension FamilyDescriptor {
  /// One list of notify entries (EventCategoryHardwareProfileChange = 1).
  public static let pnpProfile = FamilyDescriptor(
    id: "pnp-profile", title: "PnP hardware-profile change notifications",
    registration: "IoRegisterPlugPlayNotification (hardware profile change)",
    heads: [
      FamilyHead(
        "PnpProfileNotifyList",
        .code(exports: ["IoRegisterPlugPlayNotification"], shape: .list, condition: 1, discriminator: .eventCategory(1))
      )
    ],
    symbols: ["IoRegisterPlugPlayNotification"],
    reader: PnPNotifyFamily.profile)
}
