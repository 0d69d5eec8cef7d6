// DRIVER_OBJECT and DEVICE_OBJECT reads shared by the I/O families (public PDB types).

import BinaryReading
import WindowsKernel

/// Reads driver and device objects.
public enum DriverObjects {
  /// IRP_MJ_SHUTDOWN, the MajorFunction index shutdown notifications call (wdm.h).
  public static let irpMajorShutdown = 0x10

  /// `DriverName` of a DRIVER_OBJECT, e.g. `\FileSystem\Ntfs`.
  public static func name(_ c: CallbackContext, driver: UInt64) -> String? {
    guard driver != 0, let offset = try? c.kernel.offset("_DRIVER_OBJECT", "DriverName") else { return nil }
    return try? c.kernel.readUnicodeString(driver &+ offset)
  }

  /// Details naming a driver object.
  /// `driver` nil (its pointer was unreadable) gives nulls.
  public static func details(_ c: CallbackContext, driver: UInt64?) -> [(String, DetailValue)] {
    [
      ("driverObject", .address(orNull: driver)),
      ("driverName", driver.flatMap { name(c, driver: $0) }.map(DetailValue.string) ?? .null),
    ]
  }

  /// The DRIVER_OBJECT of a DEVICE_OBJECT.
  public static func driver(ofDevice device: UInt64, _ c: CallbackContext) throws(WindowsKernelError) -> UInt64 {
    try c.kernel.readPointer(device &+ (try c.kernel.offset("_DEVICE_OBJECT", "DriverObject")))
  }

  /// `MajorFunction[index]` of a DRIVER_OBJECT.
  public static func majorFunction(_ index: Int, driver: UInt64, _ c: CallbackContext) throws(WindowsKernelError)
    -> UInt64
  {
    let base = try c.kernel.offset("_DRIVER_OBJECT", "MajorFunction")
    return try c.kernel.readPointer(driver &+ base &+ UInt64(index) &* c.pointerSize)
  }

  /// `DriverInit` of a DRIVER_OBJECT (the routine the file-system queues report).
  public static func driverInit(driver: UInt64, _ c: CallbackContext) throws(WindowsKernelError) -> UInt64 {
    try c.kernel.readPointer(driver &+ (try c.kernel.offset("_DRIVER_OBJECT", "DriverInit")))
  }

  /// The device's name from its object header (`\Device\Ntfs`), when it has one.
  public static func deviceName(_ c: CallbackContext, device: UInt64) -> String? {
    guard let object = try? c.objects?.object(at: device), let name = object.name else { return nil }
    return "\\Device\\" + name
  }
}

/// KBUGCHECK_CALLBACK_REASON names (wdm.h).
public enum BugCheckReason {
  public static func name(_ value: UInt64) -> String {
    let names = [
      "KbCallbackInvalid", "KbCallbackReserved1", "KbCallbackSecondaryDumpData", "KbCallbackDumpIo",
      "KbCallbackAddPages", "KbCallbackSecondaryMultiPartDumpData", "KbCallbackRemovePages", "KbCallbackTriageDumpData",
    ]
    return value < UInt64(names.count) ? names[Int(value)] : "reason \(value)"
  }
}

/// Names of well-known power-setting GUIDs (wdm.h / winnt.h GUID_* definitions).
public enum PowerSettingGUIDs {
  static let names: [String: String] = [
    "02731015-4510-4526-99E6-E5A17EBD1AEA": "GUID_MONITOR_POWER_ON",
    "6FE69556-704A-47A0-8F24-C28D936FDA47": "GUID_CONSOLE_DISPLAY_STATE",
    "5D3E9A59-E9D5-4B00-A6BD-FF34FF516548": "GUID_ACDC_POWER_SOURCE",
    "A7AD8041-B45A-4CAE-87A3-EECBB468A9E1": "GUID_BATTERY_PERCENTAGE_REMAINING",
    "245D8541-3943-4422-B025-13A784F679B7": "GUID_POWERSCHEME_PERSONALITY",
    "31F9F286-5084-42FE-B720-2B0264993763": "GUID_ACTIVE_POWERSCHEME",
    "98A7F580-01F7-48AA-9C0F-44352C29E5C0": "GUID_IDLE_RESILIENCY_SUBGROUP",
    "2E601130-5351-4D9D-8E04-252966BAD054": "GUID_GLOBAL_USER_PRESENCE",
    "E00958C0-C213-4ACE-AC77-FECCED2EEEA5": "GUID_SYSTEM_AWAYMODE",
    "8BC6262C-C026-411D-AE3B-7E2F70811A13": "GUID_LOW_POWER_EPOCH",
    "0E796BDB-100D-47D6-A2D5-F7D2DAA51F51": "GUID_CONSOLE_DISPLAY_STATE (legacy)",
    "3166BC41-7E98-4E03-B34E-EC0F5F2B218E": "GUID_SESSION_DISPLAY_STATUS",
    "A4B195F5-8225-47D8-8012-9D41369786E2": "GUID_LIDSWITCH_STATE_CHANGE",
    "E9A42B02-D5DF-448D-AA00-03F14749EB61": "GUID_POWER_SAVING_STATUS",
  ]
  /// The symbolic name of a GUID string, if well known.
  public static func name(_ guid: String?) -> String? { guid.flatMap { names[$0] } }
}
