// The etw-provider family's planting: where the build has EtwpHostSiloState (Windows 10 1607 on) and the
// layouts describe the ETW structures, the host silo's _ETW_SILODRIVERSTATE with its 64
// EtwpGuidHashTable buckets (three self-linked LIST_ENTRY heads each, as after boot) and — where the
// build has EtwThreatIntProvRegHandle (1709 on) — the Threat-Intelligence provider, registered by the
// kernel without an enable callback and enabled. A booted machine always has both; no row comes of
// them (the TI registration has no callback), so the demo's callback set is unchanged.

extension DemoScenario {
  /// The structs the planting writes (handed in by the caller's layout table).
  public static let etwStructs = [
    "_ETW_SILODRIVERSTATE", "_ETW_HASH_BUCKET", "_ETW_GUID_ENTRY", "_TRACE_ENABLE_INFO", "_ETW_REG_ENTRY",
  ]

  /// Microsoft-Windows-Threat-Intelligence, {F4E1897C-BB5D-5668-F1D8-040F4D8DD344}, as _GUID bytes.
  static let threatIntelligenceGUID: [UInt8] = [
    0x7C, 0x89, 0xE1, 0xF4, 0x5D, 0xBB, 0x68, 0x56, 0xF1, 0xD8, 0x04, 0x0F, 0x4D, 0x8D, 0xD3, 0x44,
  ]

  /// Buckets of EtwpGuidHashTable and LIST_ENTRY heads per bucket (trace, notification, group GUIDs).
  static let etwBuckets = 64
  static let etwListsPerBucket = 3

  static func plantEtw(_ builder: WindowsImageBuilder) throws {
    let layouts = builder.configuration.layouts.structs
    guard builder.hasSymbol("EtwpHostSiloState"), etwStructs.allSatisfy({ layouts[$0] != nil }) else { return }
    let state = try builder.instance("_ETW_SILODRIVERSTATE")
    let stateVA = try builder.allocate(state)
    let table = stateVA + UInt64(try state.layout.field("EtwpGuidHashTable").offset)
    let bucketSize = UInt64(try builder.configuration.layouts.layout("_ETW_HASH_BUCKET").size)
    for bucket in 0..<etwBuckets {
      for list in 0..<etwListsPerBucket {
        try builder.linkList(head: table + UInt64(bucket) * bucketSize + UInt64(list) * 16, entries: [])
      }
    }
    try builder.writeLE(stateVA, at: try builder.symbolAddress("EtwpHostSiloState"))
    guard builder.hasSymbol("EtwThreatIntProvRegHandle") else { return }

    var enable = try builder.instance("_TRACE_ENABLE_INFO")
    try enable.set("IsEnabled", 1)
    var guidEntry = try builder.instance("_ETW_GUID_ENTRY")
    try guidEntry.set("Guid", bytes: threatIntelligenceGUID)
    try guidEntry.set("ProviderEnableInfo", enable)
    let guidVA = try builder.allocate(guidEntry)
    var registration = try builder.instance("_ETW_REG_ENTRY")
    try registration.set("GuidEntry", guidVA)
    let registrationVA = try builder.allocate(registration)
    try builder.linkList(
      head: guidVA + UInt64(try guidEntry.layout.field("RegListHead").offset),
      entries: [registrationVA + UInt64(try registration.layout.field("RegList").offset)])
    // The TI GUID hashes to some bucket; which one does not matter to a reader walking all of them.
    try builder.linkList(head: table, entries: [guidVA + UInt64(try guidEntry.layout.field("GuidList").offset)])
    try builder.writeLE(registrationVA, at: try builder.symbolAddress("EtwThreatIntProvRegHandle"))
  }
}
