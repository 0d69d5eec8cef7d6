// The etw-provider family: the enable callbacks of every registered ETW provider, and whether the
// Threat-Intelligence provider is still enabled (EDR-blinding tools clear its enable state).
// From Windows 10 1607 the host silo's _ETW_SILODRIVERSTATE (EtwpHostSiloState, else
// PspHostSiloGlobals.EtwSiloState) holds EtwpGuidHashTable: 64 _ETW_HASH_BUCKETs, each with three
// LIST_ENTRY heads (trace, notification and group GUIDs) of _ETW_GUID_ENTRY.GuidList; each GUID
// entry's RegListHead links its _ETW_REG_ENTRY registrations (RegList), whose Callback is the
// provider's enable callback. Every layout is in the public PDB (ntkrnlmp: the types named here).
// Before 1607 the table is a kernel global whose bucket type the PDB does not describe: not read.

import BinaryReading
import Symbols
import WindowsKernel

extension FamilyDescriptor {
  /// EtwRegister / EtwEventRegister: the enable callbacks of registered providers, per GUID.
  public static let etwProvider = FamilyDescriptor(
    id: "etw-provider", title: "ETW provider enable callbacks (and the Threat-Intelligence provider's state)",
    registration: "EtwRegister (kernel), EtwEventRegister (user, via NtTraceControl)",
    heads: [FamilyHead("EtwpHostSiloState", .symbolOnly), FamilyHead("PspHostSiloGlobals", .symbolOnly)],
    symbols: ["EtwThreatIntProvRegHandle", "EtwRegister"],
    structs: [
      "_ESERVERSILO_GLOBALS", "_ETW_SILODRIVERSTATE", "_ETW_HASH_BUCKET", "_ETW_GUID_ENTRY", "_ETW_REG_ENTRY",
      "_TRACE_ENABLE_INFO",
    ],
    builds: 14393...Int.max,
    rules: [EtwProviderReader.threatIntelligenceDisabled],
    reader: EtwProviderReader())
}

/// Reads EtwpGuidHashTable of the host silo.
public struct EtwProviderReader: CallbackFamily {
  public var ids: [String] { ["etw-provider"] }
  public init() {}

  /// The Threat-Intelligence provider (Microsoft-Windows-Threat-Intelligence) is registered but not enabled.
  public static let threatIntelligenceDisabled = VerdictRule(
    "etw-ti-disabled", .high,
    "the Threat-Intelligence ETW provider is registered but disabled (ProviderEnableInfo.IsEnabled = 0)")

  /// Buckets of EtwpGuidHashTable, and the GUID kinds of each bucket's three lists (ETW_GUID_TYPE).
  static let buckets = 64
  static let guidTypes = ["trace", "notification", "group"]
  /// Providers per bucket list and registrations per provider read at most (a smeared list cannot run away).
  static let bound = 4096

  /// Providers whose names a reader wants to see (public GUIDs of the manifests).
  static let knownProviders: [String: String] = [
    "F4E1897C-BB5D-5668-F1D8-040F4D8DD344": "Microsoft-Windows-Threat-Intelligence",
    "22FB2CD6-0E7B-422B-A0C7-2FAD1FD0E716": "Microsoft-Windows-Kernel-Process",
    "EDD08927-9CC4-4E65-B970-C2560FB5C289": "Microsoft-Windows-Kernel-File",
    "70EB4F03-C1DE-4F73-A051-33D13D5413BD": "Microsoft-Windows-Kernel-Registry",
    "7DD42A49-5329-4832-8DFD-43D979153A88": "Microsoft-Windows-Kernel-Network",
    "54849625-5478-4994-A5BA-3E3B0328C30D": "Microsoft-Windows-Security-Auditing",
    "E02A841C-75A3-4FA7-AFC8-AE09CF9B7F23": "Microsoft-Antimalware-Engine",
  ]

  public func collect(_ c: CallbackContext) -> [FamilyResult] {
    let id = "etw-provider"
    let state: (address: UInt64, symbol: String, provenance: Provenance)
    let table: UInt64
    let layout: Layout
    do throws(WindowsKernelError) {
      state = try Self.siloState(c)
      table = state.address &+ (try c.kernel.offset("_ETW_SILODRIVERSTATE", "EtwpGuidHashTable"))
      layout = try Layout(c)
      // The state must be there: the first bucket's list head readable and a kernel pointer.
      let first = try c.kernel.readPointer(table)
      guard c.kernel.isKernelAddress(first) else {
        throw WindowsKernelError.implausible(
          address: table, structure: "_ETW_SILODRIVERSTATE.EtwpGuidHashTable[0]",
          detail: "Flink \(Hex.format(first)) is not a kernel address")
      }
    } catch {
      return [FamilyResult(family: id, notLocated: error.description)]
    }
    var result = FamilyResult(family: id)
    for bucket in 0..<Self.buckets {
      for (kind, name) in Self.guidTypes.enumerated() {
        let head = table &+ UInt64(bucket) &* layout.bucketSize &+ UInt64(kind) &* 2 &* c.pointerSize
        let list = c.list(head, what: "EtwpGuidHashTable[\(bucket)].ListHead[\(kind)]", bound: Self.bound)
        if let warning = list.warning { result.warnings.append(warning) }
        for guidEntry in list.entries {  // GuidList is the entry's first member (offset from the profile)
          read(guidEntry &- layout.guidList, bucket: bucket, kind: name, c, layout, head: state, into: &result)
        }
      }
    }
    threatIntelligence(c, layout, into: &result)
    return [result]
  }

  /// The host silo's ETW state: EtwpHostSiloState, else PspHostSiloGlobals.EtwSiloState.
  static func siloState(_ c: CallbackContext) throws(WindowsKernelError) -> (
    address: UInt64, symbol: String, provenance: Provenance
  ) {
    if let variable = try? c.head("EtwpHostSiloState") {
      let state = try c.kernel.readPointer(variable.address)
      guard state != 0 else {
        throw .implausible(address: variable.address, structure: "EtwpHostSiloState", detail: "null pointer")
      }
      return (state, "EtwpHostSiloState", variable.provenance)
    }
    let globals = try c.head("PspHostSiloGlobals")
    let field = globals.address &+ (try c.kernel.offset("_ESERVERSILO_GLOBALS", "EtwSiloState"))
    let state = try c.kernel.readPointer(field)
    guard state != 0 else {
      throw .implausible(address: field, structure: "PspHostSiloGlobals.EtwSiloState", detail: "null pointer")
    }
    return (state, "PspHostSiloGlobals", globals.provenance)
  }

  /// Member offsets, all from the profile.
  struct Layout {
    let bucketSize, guidList, guid, regListHead, enableInfo, isEnabled, level: UInt64
    let regList, callback, callbackContext, guidEntry: UInt64

    init(_ c: CallbackContext) throws(WindowsKernelError) {
      let k = c.kernel
      bucketSize = try k.size(of: "_ETW_HASH_BUCKET")
      guidList = try k.offset("_ETW_GUID_ENTRY", "GuidList")
      guid = try k.offset("_ETW_GUID_ENTRY", "Guid")
      regListHead = try k.offset("_ETW_GUID_ENTRY", "RegListHead")
      enableInfo = try k.offset("_ETW_GUID_ENTRY", "ProviderEnableInfo")
      isEnabled = try k.offset("_TRACE_ENABLE_INFO", "IsEnabled")
      level = try k.offset("_TRACE_ENABLE_INFO", "Level")
      regList = try k.offset("_ETW_REG_ENTRY", "RegList")
      callback = try k.offset("_ETW_REG_ENTRY", "Callback")
      callbackContext = try k.offset("_ETW_REG_ENTRY", "CallbackContext")
      guidEntry = try k.offset("_ETW_REG_ENTRY", "GuidEntry")
    }
  }

  /// One GUID entry: a row per registration with a kernel-mode enable callback. User-mode
  /// registrations keep their callback in the process (not a kernel address): they have no row.
  private func read(
    _ entry: UInt64, bucket: Int, kind: String, _ c: CallbackContext, _ l: Layout,
    head: (address: UInt64, symbol: String, provenance: Provenance), into result: inout FamilyResult
  ) {
    guard let guid = c.guid(entry &+ l.guid) else {
      result.warnings.append("etw-provider GUID entry at \(Hex.format(entry)): _ETW_GUID_ENTRY.Guid unreadable")
      return
    }
    var reads = FieldReads(c, profileStruct: "_ETW_GUID_ENTRY", at: entry)
    let kernel = c.kernel
    let enabled = reads.value("ProviderEnableInfo.IsEnabled", at: entry &+ l.enableInfo &+ l.isEnabled) {
      va throws(WindowsKernelError) in try kernel.readUnsigned(va, width: 4)
    }
    let level = reads.value("ProviderEnableInfo.Level", at: entry &+ l.enableInfo &+ l.level) {
      va throws(WindowsKernelError) in try kernel.readUnsigned(va, width: 1)
    }
    result.warnings += reads.warnings.map { "etw-provider: \($0)" }
    let registrations = c.list(entry &+ l.regListHead, what: "_ETW_GUID_ENTRY \(guid) RegListHead", bound: Self.bound)
    if let warning = registrations.warning { result.warnings.append(warning) }
    for link in registrations.entries {
      let registration = link &- l.regList
      guard let routine = c.pointer(registration &+ l.callback) else {
        result.warnings.append(
          "etw-provider \(guid): _ETW_REG_ENTRY.Callback at \(Hex.format(registration &+ l.callback)) unreadable")
        continue
      }
      guard routine != 0, c.kernel.isKernelAddress(routine) else { continue }
      let context = c.pointer(registration &+ l.callbackContext)
      let row = CallbackEntry(
        family: "etw-provider", head: head.address, headSymbol: head.symbol, index: bucket, routine: routine,
        object: registration,
        details: [
          ("guid", .string(guid)), ("provider", .string(orNull: Self.knownProviders[guid])),
          ("guidType", .string(kind)), ("enabled", .int(orNull: enabled)), ("level", .int(orNull: level)),
          ("context", .address(orNull: context)), ("guidEntry", .address(entry)),
        ],
        provenance: head.provenance)
      if enabled == nil {
        result.warnings.append("etw-provider \(guid): _ETW_GUID_ENTRY.ProviderEnableInfo.IsEnabled unreadable")
      }
      result.entries.append(row)
    }
  }

  /// EtwThreatIntProvRegHandle → _ETW_REG_ENTRY.GuidEntry → ProviderEnableInfo.IsEnabled.
  private func threatIntelligence(_ c: CallbackContext, _ l: Layout, into result: inout FamilyResult) {
    guard let handle = try? c.head("EtwThreatIntProvRegHandle") else { return }  // before 1709: no TI provider
    do {
      let registration = try c.kernel.readPointer(handle.address)
      guard registration != 0 else {
        result.findings.append(
          (
            Self.threatIntelligenceDisabled.rawValue,
            "EtwThreatIntProvRegHandle is null: the provider is not registered"
          ))
        return
      }
      let guidEntry = try c.kernel.readPointer(registration &+ l.guidEntry)
      let enabled = try c.kernel.readUnsigned(guidEntry &+ l.enableInfo &+ l.isEnabled, width: 4)
      if enabled == 0 {
        result.findings.append(
          (
            Self.threatIntelligenceDisabled.rawValue,
            "EtwThreatIntProvRegHandle → _ETW_REG_ENTRY \(Hex.format(registration)) → _ETW_GUID_ENTRY "
              + "\(Hex.format(guidEntry)): ProviderEnableInfo.IsEnabled = 0"
          ))
      }
    } catch {
      result.warnings.append("EtwThreatIntProvRegHandle at \(Hex.format(handle.address)): \(error)")
    }
  }
}
