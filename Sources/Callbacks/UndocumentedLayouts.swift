// Declarations of the undocumented callback structures, each with its public source. Offsets are
// computed by CStructLayout for the kernel's pointer size; where a layout changed between builds,
// the build range is part of the choice.
//
// Sources (facts only): WinObjEx64 `Source/Shared/ntos/ntos.h` (hfiref0x), Volatility 3
// `framework/symbols/windows/callbacks-x64.json`, and the public write-ups cited per struct.

import Symbols

/// Undocumented structure layouts for one kernel (pointer size and build).
public struct UndocumentedLayouts: Sendable {
  public let pointerSize: Int
  public let build: Int

  public init(pointerSize: Int, build: Int) {
    self.pointerSize = pointerSize
    self.build = build
  }

  private func layout(_ name: String, _ members: [(String, CType)]) -> CStructLayout {
    CStructLayout(name, pointerSize: pointerSize, members)
  }

  /// EX_CALLBACK_ROUTINE_BLOCK {RundownProtect, Function, Context} (ntos.h; Volatility `Function` at +8).
  public var callbackRoutineBlock: CStructLayout {
    layout("EX_CALLBACK_ROUTINE_BLOCK", [("RundownProtect", .pointer), ("Function", .pointer), ("Context", .pointer)])
  }

  /// KBUGCHECK_CALLBACK_RECORD (wdm.h; not in ntoskrnl's PDB): Entry, CallbackRoutine, Buffer, Length,
  /// Component, Checksum, State. Volatility's table has Component at +0x28 on x64, the same.
  public var bugcheckRecord: CStructLayout {
    layout(
      "_KBUGCHECK_CALLBACK_RECORD",
      [
        ("Entry", .listEntry), ("CallbackRoutine", .pointer), ("Buffer", .pointer), ("Length", .u32),
        ("Component", .pointer), ("Checksum", .pointer), ("State", .u8),
      ])
  }

  /// KBUGCHECK_REASON_CALLBACK_RECORD (wdm.h): Entry, CallbackRoutine, Component, Checksum, Reason, State.
  public var bugcheckReasonRecord: CStructLayout {
    layout(
      "_KBUGCHECK_REASON_CALLBACK_RECORD",
      [
        ("Entry", .listEntry), ("CallbackRoutine", .pointer), ("Component", .pointer), ("Checksum", .pointer),
        ("Reason", .u32), ("State", .u8),
      ])
  }

  /// CM_CALLBACK_CONTEXT_BLOCK (ntos.h; Volatility `_CM_CALLBACK_ENTRY`: Cookie +0x18, Function +0x28, Altitude +0x30).
  public var registryCallback: CStructLayout {
    layout(
      "CM_CALLBACK_CONTEXT_BLOCK",
      [
        ("CallbackListEntry", .listEntry), ("PreCallListHead", .u32), ("Cookie", .largeInteger),
        ("CallerContext", .pointer), ("Function", .pointer), ("Altitude", .unicodeString),
        ("ObjectContextListHead", .listEntry),
      ])
  }

  /// CM_CALLBACK_CONTEXT_BLOCK of XP / 2003 as referenced from CmpCallBackVector (EX_FAST_REF slots).
  public var registryCallbackVectorBlock: CStructLayout { callbackRoutineBlock }

  /// OB_CALLBACK_ENTRY (a.k.a. OB_CALLBACK_CONTEXT_BLOCK in ntos.h): the entries on OBJECT_TYPE.CallbackList.
  public var objectCallbackEntry: CStructLayout {
    layout(
      "OB_CALLBACK_ENTRY",
      [
        ("CallbackList", .listEntry), ("Operations", .u32), ("Enabled", .u32), ("Registration", .pointer),
        ("ObjectType", .pointer), ("PreOperation", .pointer), ("PostOperation", .pointer),
        ("RundownReference", .pointer),
      ])
  }

  /// OB_CALLBACK_REGISTRATION header that precedes the entries (ntos.h `OB_REGISTRATION`).
  public var objectRegistration: CStructLayout {
    layout(
      "OB_REGISTRATION",
      [
        ("Version", .u16), ("RegistrationCount", .u16), ("RegistrationContext", .pointer), ("Altitude", .unicodeString),
        ("CallbackContext", .pointer),
      ])
  }

  /// SHUTDOWN_PACKET {ListEntry, DeviceObject} (ntos.h; Volatility `_SHUTDOWN_PACKET`).
  public var shutdownPacket: CStructLayout {
    layout("SHUTDOWN_PACKET", [("ListEntry", .listEntry), ("DeviceObject", .pointer)])
  }

  /// NOTIFICATION_PACKET {ListEntry, DriverObject, NotificationRoutine} (ntos.h; Volatility).
  public var notificationPacket: CStructLayout {
    layout(
      "NOTIFICATION_PACKET", [("ListEntry", .listEntry), ("DriverObject", .pointer), ("NotificationRoutine", .pointer)])
  }

  /// SEP_LOGON_SESSION_TERMINATED_NOTIFICATION {Next, CallbackRoutine[, Context]} (ntos.h; the Ex form adds Context).
  public var logonSessionNotification: CStructLayout {
    layout(
      "SEP_LOGON_SESSION_TERMINATED_NOTIFICATION",
      [("Next", .pointer), ("CallbackRoutine", .pointer), ("Context", .pointer)])
  }

  /// POP_POWER_SETTING_REGISTRATION: V1 before Windows 10, V2 (a second GUID) from Windows 10 (ntos.h).
  public var powerSettingRegistration: CStructLayout {
    var members: [(String, CType)] = [
      ("Link", .listEntry), ("Tag", .u32), ("CallbackThread", .pointer), ("UnregisterOnReturn", .u8),
      ("UnregisterPending", .u8), ("Guid", .guid),
    ]
    if powerSettingIsV2 { members.append(("Guid2", .guid)) }
    members += [("LastValue", .pointer), ("Callback", .pointer), ("Context", .pointer), ("DeviceObject", .pointer)]
    return layout("POP_POWER_SETTING_REGISTRATION", members)
  }

  /// Whether the V2 power-setting registration applies (Windows 10, build 10240, and later).
  public var powerSettingIsV2: Bool { build >= 10240 }

  /// RTL_CALLBACK_REGISTER {Flags, RundownReference, DebugPrintCallback, ListEntry} (ntos.h; Volatility Function +0x10).
  public var debugPrintCallback: CStructLayout {
    layout(
      "RTL_CALLBACK_REGISTER",
      [("Flags", .u32), ("RundownReference", .pointer), ("DebugPrintCallback", .pointer), ("ListEntry", .listEntry)])
  }

  /// KNMI_HANDLER_CALLBACK {Next, Callback, Context, Handle} (ntos.h).
  public var nmiCallback: CStructLayout {
    layout(
      "KNMI_HANDLER_CALLBACK",
      [("Next", .pointer), ("Callback", .pointer), ("Context", .pointer), ("Handle", .pointer)])
  }

  /// CALLBACK_OBJECT (V2 from 8.1 adds the ExpCallbackListHead link) (ntos.h).
  public var callbackObject: CStructLayout {
    layout(
      "CALLBACK_OBJECT",
      [
        ("Signature", .u32), ("Lock", .pointer), ("RegisteredCallbacks", .listEntry), ("AllowMultipleCallbacks", .u8),
        ("ExpCallbackList", .listEntry),
      ])
  }

  /// CALLBACK_REGISTRATION {Link, CallbackObject, CallbackFunction, CallbackContext, Busy, UnregisterWaiting} (ntos.h).
  public var callbackRegistration: CStructLayout {
    layout(
      "CALLBACK_REGISTRATION",
      [
        ("Link", .listEntry), ("CallbackObject", .pointer), ("CallbackFunction", .pointer),
        ("CallbackContext", .pointer),
        ("Busy", .u32), ("UnregisterWaiting", .u8),
      ])
  }

  /// DEVICE_CLASS_NOTIFY_ENTRY / the PnP notify entry header (ntos.h; Volatility `_NOTIFY_ENTRY_HEADER`).
  public var pnpNotifyEntry: CStructLayout {
    layout(
      "DEVICE_CLASS_NOTIFY_ENTRY",
      [
        ("ListEntry", .listEntry), ("EventCategory", .u32), ("SessionId", .u32), ("SessionHandle", .pointer),
        ("CallbackRoutine", .pointer), ("Context", .pointer), ("DriverObject", .pointer), ("RefCount", .u16),
        ("Unregistered", .u8), ("Lock", .pointer), ("EntryLock", .pointer), ("ClassGuid", .guid),
      ])
  }

  /// EMP_CALLBACK_DB_RECORD (Errata Manager; ntos.h): linked through `List` (a SINGLE_LIST_ENTRY).
  public var empCallbackRecord: CStructLayout {
    layout(
      "EMP_CALLBACK_DB_RECORD",
      [
        ("CallbackId", .guid), ("CallbackFunc", .pointer), ("CallbackFuncReference", .pointer), ("Context", .pointer),
        ("List", .pointer), ("CallbackDependencyListHead", .pointer), ("NumberOfStrings", .u32),
        ("NumberOfNumerics", .u32), ("NumberOfEntries", .u32),
      ])
  }

  /// EX_HOST_ENTRY_V1 (ExRegisterExtension hosts, Windows 10 before 2004 per ntos.h; the V1 shape
  /// holds on later builds for the fields read here up to FunctionTable).
  public var exHostEntry: CStructLayout {
    layout(
      "EX_HOST_ENTRY_V1",
      [
        ("ListEntry", .listEntry), ("RefCounter", .u32), ("HostParameters", .nestedStruct), ("HostId", .u16),
        ("HostVersion", .u16),
        ("HostFunctionCount", .u16), ("PoolType", .u32), ("HostTable", .pointer), ("NotificationRoutine", .pointer),
        ("NotificationContext", .pointer), ("RundownProtection", .pointer), ("PushLock", .pointer),
        ("FunctionTable", .pointer), ("Flags", .u32),
      ])
  }

  /// SERVER_SILO_MONITOR {ListEntry, Version, MonitorHost, MonitorExistingSilos, Reserved[5],
  /// CreateCallback, TerminateCallback, ComponentName} (ntos.h).
  public var siloMonitor: CStructLayout {
    layout(
      "SERVER_SILO_MONITOR",
      [
        ("ListEntry", .listEntry), ("Version", .u8), ("MonitorHost", .u8), ("MonitorExistingSilos", .u8),
        ("Reserved", .bytes(count: 5, alignment: 1)), ("CreateCallback", .pointer), ("TerminateCallback", .pointer),
        ("ComponentName", .pointer),
      ])
  }

  /// PO_COALESCING_CALLBACK V1 (a single registration at PopCoalescingCallbackRoutine) and V2 (listed
  /// on PopCoalRegistrationList through `Link`) (ntos.h).
  public var coalescingCallback: CStructLayout {
    layout(
      "PO_COALESCING_CALLBACK",
      [
        ("PushLock", .pointer), ("CoalescingCallback", .pointer), ("SelfPtr", .pointer), ("Callback", .pointer),
        ("ClientOrServer", .u8), ("Context", .pointer), ("Link", .listEntry), ("ExCallback", .pointer),
      ])
  }

  /// Every declaration for this kernel, as one profile layer: merged after the symbol files, it
  /// answers for the types they lack. Built once per pointer size, build and identity (the head
  /// locators make a CallbackContext per candidate; laying out every struct each time cost them a
  /// sixth of their run).
  /// KSERVICE_TABLE_DESCRIPTOR {Base, Count, Limit, Number} (WRK `ke.h`; not in ntoskrnl's PDB):
  /// x64 0x00/0x08/0x10/0x18, x86 0/4/8/12 — the offsets Volatility's and WinObjEx64's readers use.
  public var serviceTableDescriptor: CStructLayout {
    layout(
      "_KSERVICE_TABLE_DESCRIPTOR", [("Base", .pointer), ("Count", .pointer), ("Limit", .u32), ("Number", .pointer)])
  }

  /// FAST_IO_DISPATCH (wdm.h, public; also in the PDB, which wins when the profile has it): the
  /// size, then 27 routine pointers in wdm.h order.
  public var fastIoDispatch: CStructLayout {
    let routines = [
      "FastIoCheckIfPossible", "FastIoRead", "FastIoWrite", "FastIoQueryBasicInfo", "FastIoQueryStandardInfo",
      "FastIoLock", "FastIoUnlockSingle", "FastIoUnlockAll", "FastIoUnlockAllByKey", "FastIoDeviceControl",
      "AcquireFileForNtCreateSection", "ReleaseFileForNtCreateSection", "FastIoDetachDevice",
      "FastIoQueryNetworkOpenInfo", "AcquireForModWrite", "MdlRead", "MdlReadComplete", "PrepareMdlWrite",
      "MdlWriteComplete", "FastIoReadCompressed", "FastIoWriteCompressed", "MdlReadCompleteCompressed",
      "MdlWriteCompleteCompressed", "FastIoQueryOpen", "ReleaseForModWrite", "AcquireForCcFlush", "ReleaseForCcFlush",
    ]
    return layout("_FAST_IO_DISPATCH", [("SizeOfFastIoDispatch", .u32)] + routines.map { ($0, CType.pointer) })
  }

  /// REINIT_PACKET (WRK `iop.h`; not in ntoskrnl's PDB): ListEntry, DriverObject,
  /// DriverReinitializationRoutine, Context.
  public var reinitPacket: CStructLayout {
    layout(
      "REINIT_PACKET",
      [
        ("ListEntry", .listEntry), ("DriverObject", .pointer), ("DriverReinitializationRoutine", .pointer),
        ("Context", .pointer),
      ])
  }

  public func profile(identity: PDBIdentity) -> DeclaredLayoutProfile {
    DeclaredLayoutCache.shared.profile(pointerSize: pointerSize, build: build, identity: identity) {
      makeProfile(identity: identity)
    }
  }

  func makeProfile(identity: PDBIdentity) -> DeclaredLayoutProfile {
    let all = [
      callbackRoutineBlock,
      bugcheckRecord,
      bugcheckReasonRecord,
      registryCallback,
      objectCallbackEntry,
      objectRegistration,
      shutdownPacket,
      notificationPacket,
      logonSessionNotification,
      powerSettingRegistration,
      debugPrintCallback,
      nmiCallback,
      callbackObject,
      callbackRegistration,
      pnpNotifyEntry,
      empCallbackRecord,
      exHostEntry,
      siloMonitor,
      coalescingCallback,
      serviceTableDescriptor,
      fastIoDispatch,
      reinitPacket,
    ]
    return DeclaredLayoutProfile(
      identity: identity,
      layouts: all.map { DeclaredLayoutProfile.Layout(name: $0.name, size: $0.size, offsets: $0.offsets) },
      description: "declared layouts (public headers and write-ups, build \(build))")
  }
}
