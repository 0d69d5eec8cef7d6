// Families whose registrations hang on one LIST_ENTRY head: each entry's record is read by a
// family-specific closure. The walk survives a broken link (walked backwards too), and every
// entry that cannot be read becomes a warning.

import BinaryReading
import Symbols
import WindowsKernel

/// A LIST_ENTRY-headed family.
public struct ListFamily: CallbackFamily {
  public let id: String
  public let symbol: String
  /// Offset of the LIST_ENTRY inside each record.
  public let linkOffset: @Sendable (CallbackContext) throws(WindowsKernelError) -> UInt64
  /// Reads the rows of one record (address of the record, position in the list).
  public let read: @Sendable (CallbackContext, UInt64, Int) throws(WindowsKernelError) -> [Row]
  public var ids: [String] { [id] }

  /// What a record yields: a routine and its details.
  public struct Row: Sendable {
    public var routine: UInt64
    public var details: [(String, DetailValue)]
    public var flags: [String]
    public init(routine: UInt64, details: [(String, DetailValue)] = [], flags: [String] = []) {
      self.routine = routine
      self.details = details
      self.flags = flags
    }
  }

  public init(
    id: String, symbol: String, linkOffset: @escaping @Sendable (CallbackContext) throws(WindowsKernelError) -> UInt64,
    read: @escaping @Sendable (CallbackContext, UInt64, Int) throws(WindowsKernelError) -> [Row]
  ) {
    self.id = id
    self.symbol = symbol
    self.linkOffset = linkOffset
    self.read = read
  }

  public func collect(_ context: CallbackContext) -> [FamilyResult] {
    let head: (address: UInt64, provenance: Provenance)
    let link: UInt64
    do {
      head = try context.head(symbol)
      link = try linkOffset(context)
    } catch {
      return [FamilyResult(family: id, notLocated: error.description)]
    }
    var result = FamilyResult(family: id)
    let list = context.list(head.address, what: symbol)
    if let warning = list.warning { result.warnings.append(warning) }
    for (position, entry) in list.entries.enumerated() {
      let record = entry &- link  // the link lies inside the record
      do {
        for row in try read(context, record, position) where row.routine != 0 {
          result.entries.append(
            CallbackEntry(
              family: id, head: head.address, headSymbol: symbol, index: position, routine: row.routine, object: record,
              details: row.details, flags: row.flags, provenance: head.provenance))
        }
      } catch {
        result.warnings.append("\(id) record at \(Hex.format(record)): \(error)")
      }
    }
    return [result]
  }
}

extension ListFamily {
  /// KeRegisterBugCheckCallback: KBUGCHECK_CALLBACK_RECORD on KeBugCheckCallbackListHead (member offsets
  /// from the profile when the PDB has the type, else the public wdm.h layout).
  public static let bugcheck = ListFamily(
    id: "bugcheck", symbol: "KeBugCheckCallbackListHead",
    linkOffset: { c throws(WindowsKernelError) in
      c.offset("_KBUGCHECK_CALLBACK_RECORD", "Entry", declared: c.layouts.bugcheckRecord)
    },
    read: { c, record, _ throws(WindowsKernelError) in
      let k = c.kernel
      func at(_ field: String) -> UInt64 {
        record &+ c.offset("_KBUGCHECK_CALLBACK_RECORD", field, declared: c.layouts.bugcheckRecord)
      }
      let routine = try k.readPointer(at("CallbackRoutine"))
      let component = c.pointer(at("Component")).flatMap { c.cString($0) }
      let buffer = c.pointer(at("Buffer")) ?? 0
      let length = (try? k.readUnsigned(at("Length"), width: 4)) ?? 0
      let state = (try? k.readUnsigned(at("State"), width: 1)) ?? 0
      return [
        Row(
          routine: routine,
          details: [
            ("component", component.map(DetailValue.string) ?? .null), ("buffer", .address(buffer)),
            ("length", .int(Int64(length))), ("state", .int(Int64(state))),
          ])
      ]
    })

  /// KeRegisterBugCheckReasonCallback: KBUGCHECK_REASON_CALLBACK_RECORD (profile, else wdm.h layout).
  public static let bugcheckReason = ListFamily(
    id: "bugcheck-reason", symbol: "KeBugCheckReasonCallbackListHead",
    linkOffset: { c throws(WindowsKernelError) in
      c.offset("_KBUGCHECK_REASON_CALLBACK_RECORD", "Entry", declared: c.layouts.bugcheckReasonRecord)
    },
    read: { c, record, _ throws(WindowsKernelError) in
      let k = c.kernel
      func at(_ field: String) -> UInt64 {
        record &+ c.offset("_KBUGCHECK_REASON_CALLBACK_RECORD", field, declared: c.layouts.bugcheckReasonRecord)
      }
      let routine = try k.readPointer(at("CallbackRoutine"))
      let component = c.pointer(at("Component")).flatMap { c.cString($0) }
      let reason = (try? k.readUnsigned(at("Reason"), width: 4)) ?? 0
      return [
        Row(
          routine: routine,
          details: [
            ("component", component.map(DetailValue.string) ?? .null), ("reason", .int(Int64(reason))),
            ("reasonName", .string(BugCheckReason.name(reason))),
          ])
      ]
    })

  /// CmRegisterCallback(Ex): CM_CALLBACK_CONTEXT_BLOCK on CallbackListHead (Vista and later).
  public static let registry = ListFamily(
    id: "registry", symbol: "CallbackListHead",
    linkOffset: { c throws(WindowsKernelError) in c.layouts.registryCallback["CallbackListEntry"] },
    read: { c, record, _ throws(WindowsKernelError) in
      let l = c.layouts.registryCallback
      let routine = try c.kernel.readPointer(record &+ l["Function"])
      let cookie = (try? c.kernel.readUnsigned(record &+ l["Cookie"], width: 8)) ?? 0
      let altitude = try? c.kernel.readUnicodeString(record &+ l["Altitude"])
      let callerContext = c.pointer(record &+ l["CallerContext"]) ?? 0
      return [
        Row(
          routine: routine,
          details: [
            ("altitude", altitude.map(DetailValue.string) ?? .null), ("cookie", .address(cookie)),
            ("context", .address(callerContext)),
          ])
      ]
    })

  /// IoRegisterFsRegistrationChange: NOTIFICATION_PACKET on IopFsNotifyChangeQueueHead.
  public static let fsRegistration = ListFamily(
    id: "fs-registration", symbol: "IopFsNotifyChangeQueueHead",
    linkOffset: { c throws(WindowsKernelError) in c.layouts.notificationPacket["ListEntry"] },
    read: { c, record, _ throws(WindowsKernelError) in
      let l = c.layouts.notificationPacket
      let routine = try c.kernel.readPointer(record &+ l["NotificationRoutine"])
      let driver = c.pointer(record &+ l["DriverObject"]) ?? 0
      return [Row(routine: routine, details: DriverObjects.details(c, driver: driver))]
    })

  /// DbgSetDebugPrintCallback: RTL_CALLBACK_REGISTER, LIST_ENTRY at its end, on RtlpDebugPrintCallbackList.
  public static let debugPrint = ListFamily(
    id: "debug-print", symbol: "RtlpDebugPrintCallbackList",
    linkOffset: { c throws(WindowsKernelError) in c.layouts.debugPrintCallback["ListEntry"] },
    read: { c, record, _ throws(WindowsKernelError) in
      let l = c.layouts.debugPrintCallback
      let routine = try c.kernel.readPointer(record &+ l["DebugPrintCallback"])
      let flags = (try? c.kernel.readUnsigned(record &+ l["Flags"], width: 4)) ?? 0
      return [Row(routine: routine, details: [("flags", .int(Int64(flags)))])]
    })

  /// PoRegisterPowerSettingCallback: POP_POWER_SETTING_REGISTRATION (V1/V2) on PopRegisteredPowerSettingCallbacks.
  public static let powerSetting = ListFamily(
    id: "power-setting", symbol: "PopRegisteredPowerSettingCallbacks",
    linkOffset: { c throws(WindowsKernelError) in c.layouts.powerSettingRegistration["Link"] },
    read: { c, record, _ throws(WindowsKernelError) in
      let l = c.layouts.powerSettingRegistration
      let routine = try c.kernel.readPointer(record &+ l["Callback"])
      let guid = c.guid(record &+ l["Guid"])
      let ctx = c.pointer(record &+ l["Context"]) ?? 0
      let device = c.pointer(record &+ l["DeviceObject"]) ?? 0
      return [
        Row(
          routine: routine,
          details: [
            ("guid", guid.map(DetailValue.string) ?? .null),
            ("guidName", PowerSettingGUIDs.name(guid).map(DetailValue.string) ?? .null),
            ("context", .address(ctx)), ("deviceObject", .address(device)),
            ("layout", .string(c.layouts.powerSettingIsV2 ? "V2" : "V1")),
          ])
      ]
    })

  /// PsRegisterSiloMonitor: SERVER_SILO_MONITOR on PspSiloMonitorList — a create and a terminate row.
  public static let siloMonitor = ListFamily(
    id: "silo-monitor", symbol: "PspSiloMonitorList",
    linkOffset: { c throws(WindowsKernelError) in c.layouts.siloMonitor["ListEntry"] },
    read: { c, record, _ throws(WindowsKernelError) in
      let l = c.layouts.siloMonitor
      let create = try c.kernel.readPointer(record &+ l["CreateCallback"])
      let terminate = c.pointer(record &+ l["TerminateCallback"]) ?? 0
      let version = (try? c.kernel.readUnsigned(record &+ l["Version"], width: 1)) ?? 0
      let name = c.pointer(record &+ l["ComponentName"]).flatMap { $0 == 0 ? nil : try? c.kernel.readUnicodeString($0) }
      let common: [(String, DetailValue)] = [
        ("componentName", name.map(DetailValue.string) ?? .null), ("version", .int(Int64(version))),
      ]
      return [
        Row(routine: create, details: [("index", .int(0)), ("name", .string("CreateCallback"))] + common),
        Row(routine: terminate, details: [("index", .int(1)), ("name", .string("TerminateCallback"))] + common),
      ]
    })

  /// PoRegisterCoalescingCallback (V2, Windows 10 1803+): PO_COALESCING_CALLBACK on PopCoalRegistrationList.
  public static let powerCoalescing = ListFamily(
    id: "power-coalescing", symbol: "PopCoalRegistrationList",
    linkOffset: { c throws(WindowsKernelError) in c.layouts.coalescingCallback["Link"] },
    read: { c, record, _ throws(WindowsKernelError) in
      let l = c.layouts.coalescingCallback
      let routine = try c.kernel.readPointer(record &+ l["Callback"])
      let ctx = c.pointer(record &+ l["Context"]) ?? 0
      let clientOrServer = (try? c.kernel.readUnsigned(record &+ l["ClientOrServer"], width: 1)) ?? 0
      return [
        Row(routine: routine, details: [("context", .address(ctx)), ("clientOrServer", .int(Int64(clientOrServer)))])
      ]
    })
}
