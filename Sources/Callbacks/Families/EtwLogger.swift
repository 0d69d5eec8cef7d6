// The etw-logger family: the clock routine of every ETW logger session. Until Windows 10 1903,
// _WMI_LOGGER_CONTEXT.GetCpuClock is a function pointer the kernel calls to timestamp every event
// of the session — the InfinityHook technique points the circular kernel logger's at its own code
// and so runs on every system call. From 1909 the member is a clock index (the public PDB types it
// as an integer): nothing to call, so no rows there. The loggers are the host silo's
// EtwpLoggerContext array (MaxLoggers slots; Server 2016: WmipLoggerContext, 64 slots inside the
// state; a free slot holds 1), the state found as the etw-provider family finds it.

import BinaryReading
import Symbols
import WindowsKernel

extension FamilyDescriptor {
  /// GetCpuClock of every logger context.
  public static let etwLogger = FamilyDescriptor(
    id: "etw-logger", title: "ETW logger clock routines (GetCpuClock, to Windows 10 1903)",
    registration: "StartTrace / the kernel's own loggers (InfinityHook overwrites GetCpuClock)",
    heads: [FamilyHead("EtwpHostSiloState", .symbolOnly), FamilyHead("PspHostSiloGlobals", .symbolOnly)],
    structs: ["_ETW_SILODRIVERSTATE", "_WMI_LOGGER_CONTEXT"],
    builds: 14393...Int.max, listing: .deviations, reader: EtwLoggerReader())
}

/// Reads the host silo's logger contexts.
public struct EtwLoggerReader: CallbackFamily {
  public var ids: [String] { ["etw-logger"] }
  public init() {}

  /// EtwpLoggerContext's marker of an unused slot.
  static let freeSlot: UInt64 = 1
  static let maximumLoggers: UInt64 = 1024

  /// Where the logger contexts are and how many slots: EtwpLoggerContext → MaxLoggers pointers
  /// (1607's successors), or the 64 pointers of WmipLoggerContext inside the state (Server 2016).
  static func loggerArray(_ c: CallbackContext, state: UInt64) throws(WindowsKernelError) -> (UInt64, UInt64) {
    if let inline = c.profile.field("_ETW_SILODRIVERSTATE", "WmipLoggerContext") {
      var slots: UInt64 = 64
      if case .array(_, let count) = inline.type, count > 0 { slots = UInt64(count) }
      return (state &+ UInt64(max(0, inline.offset)), slots)
    }
    let countField = state &+ (try c.offset("_ETW_SILODRIVERSTATE", "MaxLoggers"))
    let count = try c.kernel.readUnsigned(countField, width: 4)
    guard count > 0, count <= maximumLoggers else {
      throw .implausible(address: countField, structure: "_ETW_SILODRIVERSTATE.MaxLoggers", detail: "\(count)")
    }
    let array = try c.kernel.readPointer(state &+ (try c.offset("_ETW_SILODRIVERSTATE", "EtwpLoggerContext")))
    return (array, count)
  }

  public func collect(_ c: CallbackContext) -> [FamilyResult] {
    let id = "etw-logger"
    let state: (address: UInt64, symbol: String, provenance: Provenance)
    let array, count, clock, loggerId, loggerName: UInt64
    do throws(WindowsKernelError) {
      state = try EtwProviderReader.siloState(c)
      guard let field = c.profile.field("_WMI_LOGGER_CONTEXT", "GetCpuClock") else {
        throw .undeclaredMember(structName: "_WMI_LOGGER_CONTEXT", member: "GetCpuClock")
      }
      guard case .pointer = field.type else {
        throw .implausible(
          address: 0, structure: "_WMI_LOGGER_CONTEXT.GetCpuClock",
          detail: "a clock index on this build, not a routine (Windows 10 1909 on): nothing to call")
      }
      clock = UInt64(max(0, field.offset))
      loggerId = try c.offset("_WMI_LOGGER_CONTEXT", "LoggerId")
      loggerName = try c.offset("_WMI_LOGGER_CONTEXT", "LoggerName")
      (array, count) = try Self.loggerArray(c, state: state.address)
    } catch {
      return [FamilyResult(family: id, notLocated: error.description)]
    }
    var result = FamilyResult(family: id)
    for slot in 0..<Int(count) {
      let at = array &+ UInt64(slot) &* c.pointerSize
      guard let context = c.pointer(at) else {
        result.warnings.append("etw-logger: EtwpLoggerContext[\(slot)] at \(Hex.format(at)) unreadable")
        continue
      }
      guard context != 0, context != Self.freeSlot else { continue }
      guard c.kernel.isKernelAddress(context), let routine = c.pointer(context &+ clock) else {
        result.warnings.append("etw-logger: _WMI_LOGGER_CONTEXT at \(Hex.format(context)) (slot \(slot)) unreadable")
        continue
      }
      guard routine != 0 else { continue }
      var reads = FieldReads(c, profileStruct: "_WMI_LOGGER_CONTEXT", at: context)
      let kernel = c.kernel
      let identifier = reads.value("LoggerId", at: context &+ loggerId) { va throws(WindowsKernelError) in
        try kernel.readUnsigned(va, width: 4)
      }
      let name = reads.value("LoggerName", at: context &+ loggerName) { va throws(WindowsKernelError) in
        try kernel.readUnicodeString(va)
      }
      result.warnings += reads.warnings.map { "etw-logger: \($0)" }
      var entry = CallbackEntry(
        family: id, head: array, headSymbol: "\(state.symbol).EtwpLoggerContext", index: slot, routine: routine,
        object: context,
        details: [
          ("loggerId", identifier.map { .int(Int64($0)) } ?? .null),
          ("loggerName", name.map(DetailValue.string) ?? .null),
        ],
        provenance: state.provenance)
      entry.expectedOwners = HalDispatchReader.expectedOwners
      result.entries.append(entry)
    }
    return [result]
  }
}
