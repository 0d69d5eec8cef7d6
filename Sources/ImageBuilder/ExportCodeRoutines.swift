// The builder's own table of exported kernel routines and the variables their code references,
// written from the routines' documented behaviour (wdm.h/ntddk.h: what each registers, the
// IoRegisterFileSystem DeviceType and IoRegisterPlugPlayNotification EventCategory values) and the
// public write-ups of each family's head. Kept apart from CallScope's locators on purpose: the
// synthetic kernel must not be built from the reader's own expectations.

/// One exported routine and the kernel variables its code touches.
public struct ExportRoutine: Sendable, Hashable {
  /// The export's name (the real registration or removal routine).
  public var name: String
  /// Locks and other globals referenced (address taken) before the head.
  public var locks: [String] = []
  /// Heads whose address is taken (`lea`).
  public var heads: [String] = []
  /// Heads of singly linked lists the routine pushes onto: the head is loaded into the new entry's
  /// link, then the entry stored in the head (`mov rax, [X]` … `mov [X], rbx`).
  public var pushed: [String] = []
  /// Pointer variables loaded (`mov reg, [X]`).
  public var loads: [String] = []
  /// A byte variable combined into a value (`xor al, byte ptr [X]`: ObHeaderCookie).
  public var bytes: [String] = []
  /// ULONG counters updated with `lock xadd`.
  public var counters: [String] = []
  /// A dispatch on a compared value: value → head (the heads of the paths).
  public var dispatch: Dispatch? = nil

  /// How a routine chooses among several heads.
  public struct Dispatch: Sendable, Hashable {
    /// The compared value is a DEVICE_OBJECT's DeviceType (read from the first argument at +0x48,
    /// x64 public PDB `_DEVICE_OBJECT.DeviceType`); otherwise the first argument itself (ecx).
    public var readsDeviceType: Bool
    public var cases: [Case]
  }

  /// One dispatch value and the head on its path.
  public struct Case: Sendable, Hashable {
    public var value: Int8
    public var head: String
  }

  /// Every variable referenced, in the order the code references them.
  public var variables: [String] {
    locks + heads + pushed + loads + bytes + counters + (dispatch?.cases.map(\.head) ?? [])
  }
}

extension ExportRoutine {
  /// The routines the synthetic kernel exports with code (a routine is written when the build has
  /// at least one of its variables).
  public static let kernelRoutines: [ExportRoutine] = [
    .init(
      name: "PsSetCreateProcessNotifyRoutine", heads: ["PspCreateProcessNotifyRoutine"],
      counters: ["PspCreateProcessNotifyRoutineCount", "PspCreateProcessNotifyRoutineExCount"]),
    .init(
      name: "PsSetCreateThreadNotifyRoutine", heads: ["PspCreateThreadNotifyRoutine"],
      counters: ["PspCreateThreadNotifyRoutineCount"]),
    .init(
      name: "PsSetLoadImageNotifyRoutine", heads: ["PspLoadImageNotifyRoutine"],
      counters: ["PspLoadImageNotifyRoutineCount"]),
    .init(
      name: "CmRegisterCallbackEx", locks: ["CmpCallbackListLock"], heads: ["CallbackListHead"],
      counters: ["CmpCallBackCount"]),
    .init(name: "KeRegisterBugCheckCallback", locks: ["KeBugCheckCallbackLock"], heads: ["KeBugCheckCallbackListHead"]),
    .init(
      name: "KeRegisterBugCheckReasonCallback", locks: ["KeBugCheckCallbackLock"],
      heads: ["KeBugCheckReasonCallbackListHead"]),
    .init(name: "IoRegisterShutdownNotification", heads: ["IopNotifyShutdownQueueHead"]),
    .init(name: "IoRegisterLastChanceShutdownNotification", heads: ["IopNotifyLastChanceShutdownQueueHead"]),
    .init(
      name: "IoRegisterFsRegistrationChange", locks: ["IopDatabaseResource"], heads: ["IopFsNotifyChangeQueueHead"]),
    // FILE_DEVICE_DISK_FILE_SYSTEM 8, FILE_DEVICE_CD_ROM_FILE_SYSTEM 3, FILE_DEVICE_NETWORK_FILE_SYSTEM
    // 0x14, FILE_DEVICE_TAPE_FILE_SYSTEM 0x20 (wdm.h).
    .init(
      name: "IoRegisterFileSystem", locks: ["IopDatabaseResource"],
      dispatch: .init(
        readsDeviceType: true,
        cases: [
          .init(value: 0x08, head: "IopDiskFileSystemQueueHead"),
          .init(value: 0x03, head: "IopCdRomFileSystemQueueHead"),
          .init(value: 0x14, head: "IopNetworkFileSystemQueueHead"),
          .init(value: 0x20, head: "IopTapeFileSystemQueueHead"),
        ])),
    // EventCategoryHardwareProfileChange 1, EventCategoryDeviceInterfaceChange 2 (wdm.h).
    .init(
      name: "IoRegisterPlugPlayNotification",
      dispatch: .init(
        readsDeviceType: false,
        cases: [.init(value: 1, head: "PnpProfileNotifyList"), .init(value: 2, head: "PnpDeviceClassNotifyList")])),
    .init(name: "PoRegisterPowerSettingCallback", heads: ["PopRegisteredPowerSettingCallbacks"]),
    .init(
      name: "DbgSetDebugPrintCallback", locks: ["RtlpDebugPrintCallbackLock"], heads: ["RtlpDebugPrintCallbackList"]),
    .init(name: "ExCreateCallback", heads: ["ExpCallbackListHead"]),
    .init(name: "SeRegisterLogonSessionTerminatedRoutine", pushed: ["SeFileSystemNotifyRoutinesHead"]),
    .init(name: "SeRegisterLogonSessionTerminatedRoutineEx", pushed: ["SeFileSystemNotifyRoutinesExHead"]),
    // The NMI list is pushed onto under KiNmiCallbackListLock (a spin lock: zero while free).
    .init(name: "KeRegisterNmiCallback", locks: ["KiNmiCallbackListLock"], pushed: ["KiNmiCallbackListHead"]),
    .init(name: "EmProviderRegister", pushed: ["EmpCallbackListHead"]),
    .init(name: "ExRegisterExtension", heads: ["ExpHostList"]),
    .init(name: "PsRegisterAltSystemCallHandler", heads: ["PsAltSystemCallHandlers"]),
    .init(name: "PsRegisterPicoProvider", heads: ["PspPicoProviderRoutines"]),
    .init(name: "PsRegisterSiloMonitor", heads: ["PspSiloMonitorList"]),
    .init(name: "PoRegisterCoalescingCallback", heads: ["PopCoalRegistrationList", "PopCoalescingCallbackRoutine"]),
    .init(name: "DbgkLkmdRegisterCallback", heads: ["DbgkLmdCallbacks"]),
    // The object header's TypeIndex is decoded with ObHeaderCookie and looked up in ObTypeIndexTable.
    .init(name: "ObGetObjectType", heads: ["ObTypeIndexTable"], bytes: ["ObHeaderCookie"]),
    // A name lookup starts at the root directory.
    .init(name: "ObReferenceObjectByName", loads: ["ObpRootDirectoryObject"]),
  ]

  /// Data the kernel exports by name (written to the export table where the build has them).
  public static let dataExports: [String] = [
    "PsInitialSystemProcess", "PsProcessType", "PsThreadType", "ExDesktopObjectType", "PsLoadedModuleList",
    "NtBuildNumber",
  ]

  /// This routine reduced to the variables `symbols` has (nil when none is left).
  func present(in symbols: [String: UInt64]) -> ExportRoutine? {
    var r = self
    r.locks = locks.filter { symbols[$0] != nil }
    r.heads = heads.filter { symbols[$0] != nil }
    r.pushed = pushed.filter { symbols[$0] != nil }
    r.loads = loads.filter { symbols[$0] != nil }
    r.bytes = bytes.filter { symbols[$0] != nil }
    r.counters = counters.filter { symbols[$0] != nil }
    if var d = dispatch {
      d.cases = d.cases.filter { symbols[$0.head] != nil }
      r.dispatch = d.cases.isEmpty ? nil : d
    }
    return r.heads.isEmpty && r.pushed.isEmpty && r.loads.isEmpty && r.bytes.isEmpty && r.counters.isEmpty
      && r.dispatch == nil ? nil : r
  }
}
