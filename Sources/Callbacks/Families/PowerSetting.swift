// The power-setting family (PoRegisterPowerSettingCallback): its descriptor.

import BinaryReading
import Symbols
import WindowsKernel

extension FamilyDescriptor {
  /// PoRegisterPowerSettingCallback: POP_POWER_SETTING_REGISTRATION (V1/V2) on PopRegisteredPowerSettingCallbacks.
  public static let powerSetting = FamilyDescriptor(
    id: "power-setting", title: "Power-setting change callbacks", registration: "PoRegisterPowerSettingCallback",
    heads: [
      FamilyHead(
        "PopRegisteredPowerSettingCallbacks",
        .code(exports: ["PoRegisterPowerSettingCallback", "PoUnregisterPowerSettingCallback"], shape: .list))
    ],
    symbols: ["PoRegisterPowerSettingCallback"],
    structs: ["_POP_POWER_SETTING_REGISTRATION"],
    reader: ListFamily(
      id: "power-setting", symbol: "PopRegisteredPowerSettingCallbacks",
      linkOffset: { c throws(WindowsKernelError) in try c.layouts.powerSettingRegistration["Link"] },
      read: { c, record, _ throws(WindowsKernelError) in
        let l = c.layouts.powerSettingRegistration
        let routine = try c.kernel.readPointer(record &+ (try l["Callback"]))
        var f = c.fields(l, at: record)
        var guid: String?
        if let va = f.address(of: "Guid") {
          guid = c.guid(va)
          if guid == nil { f.unreadable("Guid", at: va, reason: "16 bytes not readable") }
        }
        let ctx = f.pointer("Context")
        let device = f.pointer("DeviceObject")
        return [
          ListFamily.Row(
            routine: routine,
            details: [
              ("guid", guid.map(DetailValue.string) ?? .null),
              ("guidName", PowerSettingGUIDs.name(guid).map(DetailValue.string) ?? .null),
              ("context", .address(orNull: ctx)), ("deviceObject", .address(orNull: device)),
              ("layout", .string(c.layouts.powerSettingIsV2 ? "V2" : "V1")),
            ], warnings: f.warnings)
        ]
      }))
}
