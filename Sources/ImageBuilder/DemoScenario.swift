// The bundled demo machine (`callscope demo`): the base scenario with a kernel laid out like a real
// build (symbol RVAs and layouts handed in), its loaded-module and process lists, and callbacks of
// four made-up drivers on the process-notify, image-notify, registry and bugcheck heads — plus one
// planted anomaly: a process-notify routine in executable pool that belongs to no module.
// SYNTHETIC: no byte of it comes from a real machine. Structure shapes: DESIGN.md's family table;
// member offsets: the layout table (public PDB types) and CallbackRecordLayouts.swift.

/// Plants the demo scenario into a `WindowsImageBuilder`.
public enum DemoScenario {
  /// The kernel variables the scenario writes (the demo kernel's .data section covers them).
  public static let variables: [String] =
    [
      "PsLoadedModuleList", "PsActiveProcessHead", "PsInitialSystemProcess", "PsNtosImageBase", "NtBuildNumber",
      "PspCreateProcessNotifyRoutine", "PspCreateProcessNotifyRoutineCount", "PspCreateProcessNotifyRoutineExCount",
      "PspLoadImageNotifyRoutine", "PspLoadImageNotifyRoutineCount", "CallbackListHead", "CmpCallBackCount",
      "KeBugCheckCallbackListHead", "PsProcessType", "PsThreadType", "ExDesktopObjectType",
    ] + emptyListHeads.map(\.symbol)

  /// LIST_ENTRY heads left empty (self-linked), with how many heads the variable holds.
  public static let emptyListHeads: [(symbol: String, count: Int)] = [
    ("KeBugCheckReasonCallbackListHead", 1), ("IopNotifyShutdownQueueHead", 1),
    ("IopNotifyLastChanceShutdownQueueHead", 1), ("IopFsNotifyChangeQueueHead", 1), ("IopDiskFileSystemQueueHead", 1),
    ("IopCdRomFileSystemQueueHead", 1), ("IopNetworkFileSystemQueueHead", 1), ("IopTapeFileSystemQueueHead", 1),
    ("PopRegisteredPowerSettingCallbacks", 1), ("RtlpDebugPrintCallbackList", 1), ("ExpCallbackListHead", 1),
    ("PnpDeviceClassNotifyList", 13), ("PnpProfileNotifyList", 1), ("ExpHostList", 1), ("PspSiloMonitorList", 1),
    ("PopCoalRegistrationList", 1), ("AlpcpLogCallbackListHead", 1), ("IopTimerQueueHead", 1),
    ("IopDriverReinitializeQueueHead", 1), ("IopBootDriverReinitializeQueueHead", 1), ("KdpPowerListHead", 1),
    ("IopPerfIoTrackingListHead", 1), ("KeBugCheckAddRemovePagesCallbackListHead", 1),
  ]

  /// A demo driver and the routines in its .text: name → offset into .text.
  struct Driver {
    var name: String
    var routines: [(name: String, offset: Int)]
  }

  static let drivers: [Driver] = [
    Driver(
      name: "DemoAV.sys",
      routines: [("AvProcessNotify", 0x100), ("AvImageNotify", 0x200), ("AvRegistryCallback", 0x300)]),
    Driver(
      name: "DemoEDR.sys",
      routines: [
        ("EdrProcessNotify", 0x100), ("EdrImageNotify", 0x200), ("EdrRegistryCallback", 0x300),
        ("EdrBugCheckCallback", 0x400),
      ]),
    Driver(name: "DemoNet.sys", routines: [("NetProcessNotify", 0x100), ("NetBugCheckCallback", 0x200)]),
    Driver(name: "DemoDisk.sys", routines: [("DiskBugCheckCallback", 0x100)]),
  ]

  /// A plausible x64 routine: `mov [rsp+8],rbx; push rdi; sub rsp,20h; mov rbx,rdx; mov rdi,rcx;
  /// xor eax,eax; mov rbx,[rsp+30h]; add rsp,20h; pop rdi; ret`, then int3 padding.
  static let routineBody: [UInt8] =
    [
      0x48, 0x89, 0x5C, 0x24, 0x08, 0x57, 0x48, 0x83, 0xEC, 0x20, 0x48, 0x8B, 0xDA, 0x48, 0x8B, 0xF9, 0x33, 0xC0,
      0x48, 0x8B, 0x5C, 0x24, 0x30, 0x48, 0x83, 0xC4, 0x20, 0x5F, 0xC3,
    ] + [UInt8](repeating: 0xCC, count: 3)

  /// Plants everything into `builder` (built with `configuration.kernelBuild` set).
  public static func plant(in builder: WindowsImageBuilder) throws {
    var random = SeededGenerator(seed: builder.configuration.seed &+ 0xDE30)  // wraps harmlessly: any seed
    let kernel = builder.truth.kernelBase
    try builder.writeLE(kernel, at: try builder.symbolAddress("PsNtosImageBase"))
    // Drivers, then PsLoadedModuleList with ntoskrnl first.
    var routines: [String: (address: UInt64, owner: String?)] = [:]
    var loaderEntries: [UInt64] = []
    loaderEntries.append(
      try loaderEntry(
        builder, name: "ntoskrnl.exe", path: "\\SystemRoot\\system32\\ntoskrnl.exe", base: kernel,
        size: builder.truth.kernelSize, entryPoint: kernel + UInt64(builder.kernelImage.entryPointRVA)))
    for driver in drivers {
      var pe = try KernelImageTemplate.driver(name: driver.name, base: 0, random: &random)
      guard let text = pe.sections.firstIndex(where: { $0.name == ".text" }) else {
        throw ImageBuilderError.invalid("driver template has no .text")
      }
      for routine in driver.routines {
        pe.sections[text].contents.replaceSubrange(
          routine.offset..<(routine.offset + routineBody.count), with: routineBody)
      }
      let layout = try pe.build()
      let module = try builder.addModule(name: driver.name, pe: pe)
      guard let textRVA = layout.rva(section: ".text") else { throw ImageBuilderError.invalid("no .text RVA") }
      for routine in driver.routines {
        routines[routine.name] = (module.base + UInt64(textRVA) + UInt64(routine.offset), driver.name)
      }
      loaderEntries.append(
        try loaderEntry(
          builder, name: driver.name, path: "\\SystemRoot\\System32\\drivers\\" + driver.name, base: module.base,
          size: module.size, entryPoint: module.base + UInt64(layout.entryPointRVA)))
    }
    try builder.linkList(head: try builder.symbolAddress("PsLoadedModuleList"), entries: loaderEntries)

    // The anomaly: code in executable pool, registered as a process-notify routine.
    let page = try builder.allocateExecutableKernelPage()
    try builder.write(random.bytes(0x80) + routineBody, at: page)
    routines["PoolProcessNotify"] = (page + 0x80, nil)

    try plantObjectTypes(builder)
    try plantProcesses(builder)
    try plantCallbacks(builder, routines: routines)
    try plantEtw(builder)
    for (symbol, count) in emptyListHeads where builder.hasSymbol(symbol) {
      let head = try builder.symbolAddress(symbol)
      for i in 0..<count { try builder.linkList(head: head + UInt64(i) * 0x10, entries: []) }
    }
  }

  /// The struct PsLoadedModuleList entries are written with: `_KLDR_DATA_TABLE_ENTRY` where the build's
  /// PDB describes it (Windows 10 on), else `_LDR_DATA_TABLE_ENTRY` (Windows 7 and 8.1 public PDBs),
  /// whose leading members the kernel's loader entry shares.
  static func loaderEntryType(_ builder: WindowsImageBuilder) -> String {
    let layouts = builder.configuration.layouts.structs
    return layouts["_KLDR_DATA_TABLE_ENTRY"] == nil && layouts["_LDR_DATA_TABLE_ENTRY"] != nil
      ? "_LDR_DATA_TABLE_ENTRY" : "_KLDR_DATA_TABLE_ENTRY"
  }

  /// A loader entry (`loaderEntryType`) in pool; the address of its InLoadOrderLinks.
  static func loaderEntry(
    _ builder: WindowsImageBuilder, name: String, path: String, base: UInt64, size: UInt64, entryPoint: UInt64
  ) throws -> UInt64 {
    var entry = try builder.instance(loaderEntryType(builder))
    try entry.set("DllBase", base)
    try entry.set("EntryPoint", entryPoint)
    try entry.set("SizeOfImage", size)
    try entry.set("FullDllName", try builder.unicodeString(path))
    try entry.set("BaseDllName", try builder.unicodeString(name))
    try entry.setIfPresent("LoadCount", 1)
    let va = try builder.allocate(entry)
    return va + UInt64(try entry.layout.field("InLoadOrderLinks").offset)
  }

  /// OBJECT_TYPEs of Process, Thread and Desktop (no object callbacks registered: CallbackList
  /// empty) behind PsProcessType, PsThreadType and ExDesktopObjectType; Index values as on Windows 10.
  /// With export code, the types also get object headers and ObTypeIndexTable (DemoScenario+ObjectTypeTable).
  static func plantObjectTypes(_ builder: WindowsImageBuilder) throws {
    let withTable = builder.configuration.exportCode
    var random = SeededGenerator(seed: builder.configuration.seed &+ 0x0B7E)  // wraps harmlessly: any seed
    let cookie = withTable ? try plantHeaderCookie(builder, random: &random) : nil
    var planted: [String: UInt64] = [:]
    for (variable, name, index) in [
      ("PsProcessType", "Process", 7), ("PsThreadType", "Thread", 8), ("ExDesktopObjectType", "Desktop", 0x17),
    ] {
      var type = try builder.instance("_OBJECT_TYPE")
      try type.set("Name", try builder.unicodeString(name))
      try type.set("Index", UInt64(index))
      let va = withTable ? try allocateTypeObject(builder, type, cookie: cookie) : try builder.allocate(type)
      planted[name] = va
      try builder.linkList(head: va + UInt64(try type.layout.field("TypeList").offset), entries: [])
      try builder.linkList(head: va + UInt64(try type.layout.field("CallbackList").offset), entries: [])
      try builder.writeLE(va, at: try builder.symbolAddress(variable))
    }
    if withTable { try plantTypeIndexTable(builder, existing: planted, cookie: cookie) }
  }

  /// System (the kernel's DTB) and two user processes on PsActiveProcessHead.
  static func plantProcesses(_ builder: WindowsImageBuilder) throws {
    let processes: [(name: String, pid: UInt64, ppid: UInt64)] = [
      ("System", 4, 0), ("smss.exe", 0x1B8, 4), ("DemoApp.exe", 0x1F40, 0x1B8),
    ]
    // Process page directories come from above the System DTB (the lowest self-mapped directory, as on
    // a freshly booted machine), so scanners that take the first self-referencing page find System's.
    let next = builder.memory.nextAllocation
    if next < builder.truth.dtb { try builder.memory.reserve(next, length: builder.truth.dtb - next) }
    var links: [UInt64] = []
    for (i, process) in processes.enumerated() {
      let dtb: UInt64
      if i == 0 {
        dtb = builder.truth.dtb
        builder.truth.processes.append(.init(name: process.name, dtb: dtb))
      } else {
        dtb = try builder.addProcess(name: process.name).root
      }
      var pcb = try builder.instance("_KPROCESS")
      try pcb.set("DirectoryTableBase", dtb)
      var eprocess = try builder.instance("_EPROCESS")
      try eprocess.set("Pcb", pcb)
      try eprocess.set("UniqueProcessId", process.pid)
      try eprocess.set("InheritedFromUniqueProcessId", process.ppid)
      try eprocess.set("ImageFileName", bytes: Array(process.name.utf8.prefix(14)))
      try eprocess.set("CreateTime", 0x01D8_0000_0000_0000 + UInt64(i) * 0x1_0000)
      let va = try builder.allocate(eprocess)
      links.append(va + UInt64(try eprocess.layout.field("ActiveProcessLinks").offset))
      let last = builder.truth.processes.count - 1
      builder.truth.processes[last].pid = process.pid
      builder.truth.processes[last].eprocess = va
      if i == 0 { try builder.writeLE(va, at: try builder.symbolAddress("PsInitialSystemProcess")) }
    }
    try builder.linkList(head: try builder.symbolAddress("PsActiveProcessHead"), entries: links)
  }
}
