// IoRegisterPlugPlayNotification: DEVICE_CLASS_NOTIFY_ENTRY records on the 13 hash buckets of
// PnpDeviceClassNotifyList (all walked) and on PnpProfileNotifyList (hardware-profile changes).

import BinaryReading
import Symbols
import WindowsKernel

/// PnP notification entries.
public struct PnPNotifyFamily: CallbackFamily {
  /// Which of the two lists.
  public enum List: Sendable { case deviceClass, profile }
  public let list: List
  public var ids: [String] { [list == .deviceClass ? "pnp-device-class" : "pnp-profile"] }

  /// The device-interface lists (13 buckets).
  public static let deviceClass = PnPNotifyFamily(list: .deviceClass)
  /// The hardware-profile list.
  public static let profile = PnPNotifyFamily(list: .profile)

  /// Buckets of PnpDeviceClassNotifyList (a LIST_ENTRY[13] hashed by class GUID).
  public static let bucketCount = 13

  /// IO_NOTIFICATION_EVENT_CATEGORY names (wdm.h).
  static func categoryName(_ value: UInt64) -> String {
    switch value {
    case 1: return "EventCategoryHardwareProfileChange"
    case 2: return "EventCategoryDeviceInterfaceChange"
    case 3: return "EventCategoryTargetDeviceChange"
    default: return "EventCategory(\(value))"
    }
  }

  public func collect(_ c: CallbackContext) -> [FamilyResult] {
    switch list {
    case .deviceClass:
      var deviceClass = FamilyResult(family: "pnp-device-class")
      if let head = try? c.head("PnpDeviceClassNotifyList") {
        for bucket in 0..<Self.bucketCount {
          let bucketHead = head.address &+ UInt64(bucket) &* 2 &* c.pointerSize  // LIST_ENTRY = 2 pointers
          read(
            c, family: "pnp-device-class", head: bucketHead, symbol: "PnpDeviceClassNotifyList", bucket: bucket,
            provenance: head.provenance, into: &deviceClass)
        }
      } else {
        deviceClass.notLocated = c.kernel.missing("PnpDeviceClassNotifyList").description
      }
      return [deviceClass]
    case .profile:
      var profile = FamilyResult(family: "pnp-profile")
      if let head = try? c.head("PnpProfileNotifyList") {
        read(
          c, family: "pnp-profile", head: head.address, symbol: "PnpProfileNotifyList", bucket: nil,
          provenance: head.provenance, into: &profile)
      } else {
        profile.notLocated = c.kernel.missing("PnpProfileNotifyList").description
      }
      return [profile]
    }
  }

  private func read(
    _ c: CallbackContext, family: String, head: UInt64, symbol: String, bucket: Int?, provenance: Provenance,
    into result: inout FamilyResult
  ) {
    let l = c.layouts.pnpNotifyEntry
    let offsets: (link: UInt64, routine: UInt64)
    do { offsets = (try l["ListEntry"], try l["CallbackRoutine"]) } catch {
      result.warnings.append("\(family): \(error)")
      return
    }
    let list = c.list(head, what: bucket.map { "\(symbol)[\($0)]" } ?? symbol)
    if let w = list.warning { result.warnings.append(w) }
    for (position, link) in list.entries.enumerated() {
      let entry = link &- offsets.link  // first member
      guard let routine = c.pointer(entry &+ offsets.routine) else {
        result.warnings.append("\(family) entry at \(Hex.format(entry)) unreadable")
        continue
      }
      guard routine != 0 else { continue }
      var f = c.fields(l, at: entry)
      let category = f.unsigned("EventCategory", width: 4)
      let driver = f.pointer("DriverObject")
      var details: [(String, DetailValue)] = [
        ("eventCategory", category.map { .string(Self.categoryName($0)) } ?? .null),
        ("context", .address(orNull: f.pointer("Context"))),
      ]
      if let bucket {
        var guid: String?
        if let va = f.address(of: "ClassGuid") {
          guid = c.guid(va)
          if guid == nil { f.unreadable("ClassGuid", at: va, reason: "16 bytes not readable") }
        }
        details += [
          ("bucket", .int(Int64(bucket))), ("classGuid", guid.map(DetailValue.string) ?? .null),
          ("classGuidName", DeviceInterfaceGUIDs.name(guid).map(DetailValue.string) ?? .null),
        ]
      }
      details += DriverObjects.details(c, driver: driver)
      result.warnings += f.warnings.map { "\(family) entry at \(Hex.format(entry)): \($0)" }
      result.entries.append(
        CallbackEntry(
          family: family, head: head, headSymbol: symbol, index: bucket ?? position, routine: routine, object: entry,
          details: details, provenance: provenance))
    }
  }
}

/// Names of common device-interface class GUIDs (public GUID_DEVINTERFACE_* definitions in the WDK).
public enum DeviceInterfaceGUIDs {
  static let names: [String: String] = [
    "53F5630D-B6BF-11D0-94F2-00A0C91EFB8B": "GUID_DEVINTERFACE_VOLUME",
    "53F56307-B6BF-11D0-94F2-00A0C91EFB8B": "GUID_DEVINTERFACE_DISK",
    "53F56308-B6BF-11D0-94F2-00A0C91EFB8B": "GUID_DEVINTERFACE_CDROM",
    "53F5630A-B6BF-11D0-94F2-00A0C91EFB8B": "GUID_DEVINTERFACE_PARTITION",
    "53F56312-B6BF-11D0-94F2-00A0C91EFB8B": "GUID_DEVINTERFACE_STORAGEPORT",
    "CAC88484-7515-4C03-82E6-71A87ABAC361": "GUID_DEVINTERFACE_NET",
    "A5DCBF10-6530-11D2-901F-00C04FB951ED": "GUID_DEVINTERFACE_USB_DEVICE",
    "4D1E55B2-F16F-11CF-88CB-001111000030": "GUID_DEVINTERFACE_HID",
    "884B96C3-56EF-11D1-BC8C-00A0C91405DD": "GUID_DEVINTERFACE_KEYBOARD",
    "378DE44C-56EF-11D1-BC8C-00A0C91405DD": "GUID_DEVINTERFACE_MOUSE",
    "1CA05180-A699-450A-9A0C-DE4FBE3DDD89": "GUID_DEVINTERFACE_DISPLAY_ADAPTER",
  ]
  public static func name(_ guid: String?) -> String? { guid.flatMap { names[$0] } }
}
