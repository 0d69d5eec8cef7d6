// The demo's callback registrations: EX_FAST_REF slots → EX_CALLBACK_ROUTINE_BLOCK for process- and
// image-notify (the low 4 bits of an x64 EX_FAST_REF are its reference count: public PDB
// `_EX_FAST_REF.RefCnt`), CM_CALLBACK_CONTEXT_BLOCKs on CallbackListHead, KBUGCHECK_CALLBACK_RECORDs on
// KeBugCheckCallbackListHead (Checksum = CallbackRoutine + Buffer + Length + Component and State
// BufferInserted, as KeRegisterBugCheckCallback sets them: WRK v1.2 base/ntos/ke/bugcheck.c), and the
// kernel's counters of each family.

extension DemoScenario {
  /// One planned registration: family, routine name (a key of the routine table), flavour flags.
  struct Registration {
    var family: String
    var routine: String
    /// process-notify: the block's Context flags (0 legacy, 2 Ex, 6 Ex2); registry: the altitude;
    /// bugcheck: the component name.
    var detail: String
    var anomaly: String? = nil
  }

  static let registrations: [Registration] = [
    .init(family: "process-notify", routine: "AvProcessNotify", detail: "2"),
    .init(family: "process-notify", routine: "EdrProcessNotify", detail: "6"),
    .init(family: "process-notify", routine: "NetProcessNotify", detail: "0"),
    .init(family: "process-notify", routine: "PoolProcessNotify", detail: "2", anomaly: "outside-modules"),
    .init(family: "image-notify", routine: "AvImageNotify", detail: ""),
    .init(family: "image-notify", routine: "EdrImageNotify", detail: ""),
    .init(family: "registry", routine: "AvRegistryCallback", detail: "328010"),
    .init(family: "registry", routine: "EdrRegistryCallback", detail: "321410"),
    .init(family: "bugcheck", routine: "EdrBugCheckCallback", detail: "DemoEDR"),
    .init(family: "bugcheck", routine: "NetBugCheckCallback", detail: "DemoNet"),
    .init(family: "bugcheck", routine: "DiskBugCheckCallback", detail: "DemoDisk"),
  ]

  static func plantCallbacks(
    _ builder: WindowsImageBuilder, routines: [String: (address: UInt64, owner: String?)]
  ) throws {
    var positions: [String: Int] = [:]
    var registryLinks: [UInt64] = []
    var bugcheckLinks: [UInt64] = []
    for registration in registrations {
      guard let routine = routines[registration.routine] else {
        throw ImageBuilderError.invalid("demo routine \(registration.routine) was not placed")
      }
      let index = positions[registration.family, default: 0]
      positions[registration.family] = index + 1
      let head: String
      let object: UInt64
      switch registration.family {
      case "process-notify", "image-notify":
        head = registration.family == "process-notify" ? "PspCreateProcessNotifyRoutine" : "PspLoadImageNotifyRoutine"
        var block = try builder.instance("_EX_CALLBACK_ROUTINE_BLOCK")
        try block.set("Function", routine.address)
        try block.set("Context", UInt64(registration.detail) ?? 0)
        object = try builder.allocate(block)  // 16-byte aligned: the low 4 bits are free
        try builder.writeLE(object | 0xF, at: try builder.symbolAddress(head) + UInt64(index) * 8)
      case "registry":
        head = "CallbackListHead"
        var block = try builder.instance("_CM_CALLBACK_CONTEXT_BLOCK")
        try block.set("Cookie", 0x01DA_3C5E_0000_0000 | UInt64(index) * 0x1_0000)
        try block.set("Function", routine.address)
        try block.set("Altitude", try builder.unicodeString(registration.detail))
        object = try builder.allocate(block)
        let inner = UInt64(try block.layout.field("ObjectContextListHead").offset)
        try builder.linkList(head: object + inner, entries: [])
        registryLinks.append(object + UInt64(try block.layout.field("CallbackListEntry").offset))
      case "bugcheck":
        head = "KeBugCheckCallbackListHead"
        let length: UInt64 = 0x100
        let buffer = try builder.allocateKernelMemory(Int(length))
        let component = try builder.cString(registration.detail)
        var record = try builder.instance("_KBUGCHECK_CALLBACK_RECORD")
        try record.set("CallbackRoutine", routine.address)
        try record.set("Buffer", buffer)
        try record.set("Length", length)
        try record.set("Component", component)
        // Our own kernel addresses plus a small length: wrapping is what the kernel's sum does too.
        try record.set("Checksum", routine.address &+ buffer &+ length &+ component)
        try record.set("State", 1)  // KBUGCHECK_CALLBACK_STATE BufferInserted
        object = try builder.allocate(record)
        bugcheckLinks.append(object + UInt64(try record.layout.field("Entry").offset))
      default:
        throw ImageBuilderError.invalid("demo family \(registration.family)")
      }
      builder.truth.callbacks.append(
        .init(
          family: registration.family, headSymbol: head, index: index, routine: routine.address, owner: routine.owner,
          object: object, anomaly: registration.anomaly))
    }
    try builder.linkList(head: try builder.symbolAddress("CallbackListHead"), entries: registryLinks)
    try builder.linkList(head: try builder.symbolAddress("KeBugCheckCallbackListHead"), entries: bugcheckLinks)

    // The counters beside the arrays and lists.
    let process = registrations.filter { $0.family == "process-notify" }
    let counters: [(String, Int)] = [
      ("PspCreateProcessNotifyRoutineCount", process.filter { $0.detail == "0" }.count),
      ("PspCreateProcessNotifyRoutineExCount", process.filter { $0.detail != "0" }.count),
      ("PspLoadImageNotifyRoutineCount", positions["image-notify", default: 0]),
      ("CmpCallBackCount", registryLinks.count),
    ]
    for (symbol, value) in counters { try builder.writeLE(UInt32(value), at: try builder.symbolAddress(symbol)) }
  }
}
