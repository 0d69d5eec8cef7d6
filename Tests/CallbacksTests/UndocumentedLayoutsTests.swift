// The declared undocumented structures, laid out for x64 and x86, against the public sources:
// WinObjEx64 `Source/Shared/ntos/ntos.h` (offsets worked out from its member lists with MSVC natural
// alignment, pointers 8 / 4 bytes), wdm.h for the bugcheck records, Volatility 3's
// `framework/symbols/windows/callbacks-x64.json` (read live from the installed package), and the
// offsets the reference images' truth file states.

import Callbacks
import Foundation
import TestData
import Testing

@Suite struct UndocumentedLayoutsTests {
  static let x64 = UndocumentedLayouts(pointerSize: 8, build: 19041)
  static let x86 = UndocumentedLayouts(pointerSize: 4, build: 19041)

  /// Expected offsets per member as (x64, x86), and sizes (x64, x86).
  static var expected: [(String, KeyPath<UndocumentedLayouts, CStructLayout>, [String: (Int, Int)], (Int, Int))] {
    [
      (
        "EX_CALLBACK_ROUTINE_BLOCK", \.callbackRoutineBlock,
        ["RundownProtect": (0, 0), "Function": (0x08, 0x04), "Context": (0x10, 0x08)], (0x18, 0x0c)
      ),
      (
        "KBUGCHECK_CALLBACK_RECORD", \.bugcheckRecord,
        [
          "Entry": (0, 0), "CallbackRoutine": (0x10, 0x08), "Buffer": (0x18, 0x0c), "Length": (0x20, 0x10),
          "Component": (0x28, 0x14), "Checksum": (0x30, 0x18), "State": (0x38, 0x1c),
        ], (0x40, 0x20)
      ),
      (
        "KBUGCHECK_REASON_CALLBACK_RECORD", \.bugcheckReasonRecord,
        [
          "Entry": (0, 0), "CallbackRoutine": (0x10, 0x08), "Component": (0x18, 0x0c), "Checksum": (0x20, 0x10),
          "Reason": (0x28, 0x14), "State": (0x2c, 0x18),
        ], (0x30, 0x1c)
      ),
      (
        "CM_CALLBACK_CONTEXT_BLOCK", \.registryCallback,
        [
          "CallbackListEntry": (0, 0), "PreCallListHead": (0x10, 0x08), "Cookie": (0x18, 0x10),
          "CallerContext": (0x20, 0x18), "Function": (0x28, 0x1c), "Altitude": (0x30, 0x20),
          "ObjectContextListHead": (0x40, 0x28),
        ], (0x50, 0x30)
      ),
      (
        "OB_CALLBACK_CONTEXT_BLOCK", \.objectCallbackEntry,
        [
          "CallbackList": (0, 0), "Operations": (0x10, 0x08), "Enabled": (0x14, 0x0c), "Registration": (0x18, 0x10),
          "ObjectType": (0x20, 0x14), "PreOperation": (0x28, 0x18), "PostOperation": (0x30, 0x1c),
          "RundownReference": (0x38, 0x20),
        ], (0x40, 0x24)
      ),
      (
        "OB_REGISTRATION", \.objectRegistration,
        [
          "Version": (0, 0), "RegistrationCount": (0x02, 0x02), "RegistrationContext": (0x08, 0x04),
          "Altitude": (0x10, 0x08), "CallbackContext": (0x20, 0x10),
        ], (0x28, 0x14)
      ),
      ("SHUTDOWN_PACKET", \.shutdownPacket, ["ListEntry": (0, 0), "DeviceObject": (0x10, 0x08)], (0x18, 0x0c)),
      (
        "NOTIFICATION_PACKET", \.notificationPacket,
        ["ListEntry": (0, 0), "DriverObject": (0x10, 0x08), "NotificationRoutine": (0x18, 0x0c)], (0x20, 0x10)
      ),
      (
        "SEP_LOGON_SESSION_TERMINATED_NOTIFICATION", \.logonSessionNotification,
        ["Next": (0, 0), "CallbackRoutine": (0x08, 0x04), "Context": (0x10, 0x08)], (0x18, 0x0c)
      ),
      (
        "POP_POWER_SETTING_REGISTRATION_V2", \.powerSettingRegistration,
        [
          "Link": (0, 0), "Tag": (0x10, 0x08), "CallbackThread": (0x18, 0x0c), "UnregisterOnReturn": (0x20, 0x10),
          "UnregisterPending": (0x21, 0x11), "Guid": (0x24, 0x14), "Guid2": (0x34, 0x24), "LastValue": (0x48, 0x34),
          "Callback": (0x50, 0x38), "Context": (0x58, 0x3c), "DeviceObject": (0x60, 0x40),
        ], (0x68, 0x44)
      ),
      (
        "RTL_CALLBACK_REGISTER", \.debugPrintCallback,
        [
          "Flags": (0, 0), "RundownReference": (0x08, 0x04), "DebugPrintCallback": (0x10, 0x08),
          "ListEntry": (0x18, 0x0c),
        ],
        (0x28, 0x14)
      ),
      (
        "KNMI_HANDLER_CALLBACK", \.nmiCallback,
        ["Next": (0, 0), "Callback": (0x08, 0x04), "Context": (0x10, 0x08), "Handle": (0x18, 0x0c)], (0x20, 0x10)
      ),
      (
        "CALLBACK_OBJECT_V2", \.callbackObject,
        [
          "Signature": (0, 0), "Lock": (0x08, 0x04), "RegisteredCallbacks": (0x10, 0x08),
          "AllowMultipleCallbacks": (0x20, 0x10), "ExpCallbackList": (0x28, 0x14),
        ], (0x38, 0x1c)
      ),
      (
        "CALLBACK_REGISTRATION", \.callbackRegistration,
        [
          "Link": (0, 0), "CallbackObject": (0x10, 0x08), "CallbackFunction": (0x18, 0x0c),
          "CallbackContext": (0x20, 0x10), "Busy": (0x28, 0x14), "UnregisterWaiting": (0x2c, 0x18),
        ], (0x30, 0x1c)
      ),
      (
        "DEVICE_CLASS_NOTIFY_ENTRY", \.pnpNotifyEntry,
        [
          "ListEntry": (0, 0), "EventCategory": (0x10, 0x08), "SessionId": (0x14, 0x0c), "SessionHandle": (0x18, 0x10),
          "CallbackRoutine": (0x20, 0x14), "Context": (0x28, 0x18), "DriverObject": (0x30, 0x1c),
          "RefCount": (0x38, 0x20), "Unregistered": (0x3a, 0x22), "Lock": (0x40, 0x24), "EntryLock": (0x48, 0x28),
          "ClassGuid": (0x50, 0x2c),
        ], (0x60, 0x3c)
      ),
      (
        "EMP_CALLBACK_DB_RECORD", \.empCallbackRecord,
        [
          "CallbackId": (0, 0), "CallbackFunc": (0x10, 0x10), "CallbackFuncReference": (0x18, 0x14),
          "Context": (0x20, 0x18), "List": (0x28, 0x1c), "CallbackDependencyListHead": (0x30, 0x20),
          "NumberOfStrings": (0x38, 0x24), "NumberOfNumerics": (0x3c, 0x28), "NumberOfEntries": (0x40, 0x2c),
        ], (0x48, 0x30)
      ),
      (
        // EX_HOST_PARAMS starts with EX_EXTENSION_INFORMATION_V1 {USHORT Id, Version, FunctionCount}.
        "EX_HOST_ENTRY_V1", \.exHostEntry,
        [
          "ListEntry": (0, 0), "RefCounter": (0x10, 0x08), "HostParameters": (0x18, 0x0c), "HostId": (0x18, 0x0c),
          "HostVersion": (0x1a, 0x0e), "HostFunctionCount": (0x1c, 0x10), "PoolType": (0x20, 0x14),
          "HostTable": (0x28, 0x18), "NotificationRoutine": (0x30, 0x1c), "NotificationContext": (0x38, 0x20),
          "RundownProtection": (0x40, 0x24), "PushLock": (0x48, 0x28), "FunctionTable": (0x50, 0x2c),
          "Flags": (0x58, 0x30),
        ], (0x60, 0x34)
      ),
      (
        "SERVER_SILO_MONITOR", \.siloMonitor,
        [
          "ListEntry": (0, 0), "Version": (0x10, 0x08), "MonitorHost": (0x11, 0x09),
          "MonitorExistingSilos": (0x12, 0x0a),
          "Reserved": (0x13, 0x0b), "CreateCallback": (0x18, 0x10), "TerminateCallback": (0x20, 0x14),
          "ComponentName": (0x28, 0x18),
        ], (0x30, 0x1c)
      ),
      (
        "PO_COALESCING_CALLBACK_V2", \.coalescingCallback,
        [
          "PushLock": (0, 0), "CoalescingCallback": (0x08, 0x04), "SelfPtr": (0x10, 0x08), "Callback": (0x18, 0x0c),
          "ClientOrServer": (0x20, 0x10), "Context": (0x28, 0x14), "Link": (0x30, 0x18), "ExCallback": (0x40, 0x20),
        ], (0x48, 0x24)
      ),
    ]
  }

  @Test func everyMemberOfEveryStructureMatchesNtosH() {
    for (name, path, members, sizes) in Self.expected {
      let a = Self.x64[keyPath: path]
      let b = Self.x86[keyPath: path]
      #expect(Set(a.offsets.keys) == Set(members.keys), "\(name): declared members")
      for (member, (o64, o86)) in members {
        #expect(a.offsets[member] == o64, "\(name).\(member) x64")
        #expect(b.offsets[member] == o86, "\(name).\(member) x86")
      }
      #expect(a.size == sizes.0, "\(name) size x64")
      #expect(b.size == sizes.1, "\(name) size x86")
      #expect(a.pointerSize == 8 && b.pointerSize == 4)
    }
  }

  @Test func powerSettingRegistrationIsV1BeforeWindows10() {
    // POP_POWER_SETTING_REGISTRATION_V1 (ntos.h) lacks Guid2.
    let v1x64 = UndocumentedLayouts(pointerSize: 8, build: 9600).powerSettingRegistration
    let v1x86 = UndocumentedLayouts(pointerSize: 4, build: 9600).powerSettingRegistration
    #expect(!UndocumentedLayouts(pointerSize: 8, build: 9600).powerSettingIsV2)
    #expect(UndocumentedLayouts(pointerSize: 8, build: 10240).powerSettingIsV2)
    #expect(v1x64.offsets["Guid2"] == nil)
    let x64: [String: Int] = ["Guid": 0x24, "LastValue": 0x38, "Callback": 0x40, "Context": 0x48, "DeviceObject": 0x50]
    let x86: [String: Int] = ["Guid": 0x14, "LastValue": 0x24, "Callback": 0x28, "Context": 0x2c, "DeviceObject": 0x30]
    for (member, offset) in x64 { #expect(v1x64.offsets[member] == offset, "V1.\(member) x64") }
    for (member, offset) in x86 { #expect(v1x86.offsets[member] == offset, "V1.\(member) x86") }
  }

  /// Volatility's `callbacks-x64.json`, read from the installed volatility3 package.
  static func volatilityTypes() throws -> [String: [String: Int]] {
    let script = """
      import json, os, volatility3
      p = os.path.join(os.path.dirname(volatility3.__file__), 'framework/symbols/windows/callbacks-x64.json')
      d = json.load(open(p))
      print(json.dumps({n: {k: v['offset'] for k, v in t['fields'].items()} for n, t in d['user_types'].items()}))
      """
    let result = try TestData.run(try TestData.which("python3"), ["-c", script])
    guard result.status == 0,
      let types = try JSONSerialization.jsonObject(with: result.stdoutData) as? [String: [String: Int]]
    else { throw TestDataError.tool("reading callbacks-x64.json failed: \(result.stderr)") }
    return types
  }

  @Test func x64OffsetsAgreeWithVolatility() throws {
    let vol = try Self.volatilityTypes()
    let l = Self.x64
    // (Volatility type, its field, our layout, our member).
    let pairs: [(String, String, CStructLayout, String)] = [
      ("_EX_CALLBACK_ROUTINE_BLOCK", "Function", l.callbackRoutineBlock, "Function"),
      ("_GENERIC_CALLBACK", "Callback", l.callbackRoutineBlock, "Function"),
      ("_NOTIFICATION_PACKET", "ListEntry", l.notificationPacket, "ListEntry"),
      ("_NOTIFICATION_PACKET", "DriverObject", l.notificationPacket, "DriverObject"),
      ("_NOTIFICATION_PACKET", "NotificationRoutine", l.notificationPacket, "NotificationRoutine"),
      ("_SHUTDOWN_PACKET", "Entry", l.shutdownPacket, "ListEntry"),
      ("_SHUTDOWN_PACKET", "DeviceObject", l.shutdownPacket, "DeviceObject"),
      ("_DBGPRINT_CALLBACK", "Function", l.debugPrintCallback, "DebugPrintCallback"),
      ("_NOTIFY_ENTRY_HEADER", "ListEntry", l.pnpNotifyEntry, "ListEntry"),
      ("_NOTIFY_ENTRY_HEADER", "EventCategory", l.pnpNotifyEntry, "EventCategory"),
      ("_NOTIFY_ENTRY_HEADER", "CallbackRoutine", l.pnpNotifyEntry, "CallbackRoutine"),
      ("_NOTIFY_ENTRY_HEADER", "DriverObject", l.pnpNotifyEntry, "DriverObject"),
      ("_REGISTRY_CALLBACK", "ListEntry", l.registryCallback, "CallbackListEntry"),
      ("_REGISTRY_CALLBACK", "Function", l.registryCallback, "Function"),
      ("_CM_CALLBACK_ENTRY", "Link", l.registryCallback, "CallbackListEntry"),
      ("_CM_CALLBACK_ENTRY", "Cookie", l.registryCallback, "Cookie"),
      ("_CM_CALLBACK_ENTRY", "Function", l.registryCallback, "Function"),
      ("_CM_CALLBACK_ENTRY", "Altitude", l.registryCallback, "Altitude"),
      ("_KBUGCHECK_CALLBACK_RECORD", "Entry", l.bugcheckRecord, "Entry"),
      ("_KBUGCHECK_CALLBACK_RECORD", "CallbackRoutine", l.bugcheckRecord, "CallbackRoutine"),
      ("_KBUGCHECK_CALLBACK_RECORD", "Component", l.bugcheckRecord, "Component"),
      ("_KBUGCHECK_REASON_CALLBACK_RECORD", "Entry", l.bugcheckReasonRecord, "Entry"),
      ("_KBUGCHECK_REASON_CALLBACK_RECORD", "CallbackRoutine", l.bugcheckReasonRecord, "CallbackRoutine"),
    ]
    for (type, field, layout, member) in pairs {
      let theirs = try #require(vol[type]?[field], "Volatility lacks \(type).\(field)")
      #expect(layout.offsets[member] == theirs, "\(type).\(field) vs \(layout.name).\(member)")
    }
    // The one known disagreement: Volatility reads the reason record's Component at +0x28 (its
    // table reuses the plain record's layout); wdm.h puts it right after CallbackRoutine, at +0x18.
    #expect(vol["_KBUGCHECK_REASON_CALLBACK_RECORD"]?["Component"] == 0x28)
    #expect(l.bugcheckReasonRecord.offsets["Component"] == 0x18)
  }

  @Test func offsetsTheTruthFileStates() throws {
    // The clean image's truth names these offsets for the structures it planted.
    let truth = try #require(
      try TestData.json(TestData.shared("images/win10-19041-clean.truth.json").path) as? [String: Any])
    let callbacks = try #require(truth["callbacks"] as? [[String: Any]])
    func extra(_ family: String, _ key: String) -> UInt64? {
      callbacks.first { $0["callscope_family"] as? String == family }.flatMap {
        TestData.hex(($0["extra"] as? [String: Any])?[key])
      }
    }
    let l = Self.x64
    #expect(extra("power-setting", "callback_offset") == (try l.powerSettingRegistration["Callback"]))
    #expect(extra("emp", "list_offset") == (try l.empCallbackRecord["List"]))
    #expect(extra("power-coalescing", "link_offset") == (try l.coalescingCallback["Link"]))
    let list = try #require(truth["exp_callback_list"] as? [String: Any])
    #expect(TestData.hex(list["link_offset"]) == (try l.callbackObject["ExpCallbackList"]))
  }
}
