// The timer-dpc family: every kernel timer with a DPC, on every processor — rootkits and EDR
// tamperers schedule work this way without any callback list. From Windows 7 each processor's
// KPRCB.TimerTable holds TimerEntries (256, or 2 × 256 from Windows 10) of _KTIMER_TABLE_ENTRY,
// each a LIST_ENTRY of _KTIMER.TimerListEntry. KTIMER.Dpc is stored encoded where the kernel has
// KiWaitNever/KiWaitAlways: KDPC = KiWaitAlways ^ bswap64(timer ^ rol64(raw ^ KiWaitNever,
// KiWaitNever & 0xFF)) (the decoding Volatility 3's timers plugin applies). All layouts are public PDB
// types; KiProcessorBlock (the KPRCB pointers) is found through KeQueryPrcbAddress without symbols.

import BinaryReading
import Symbols
import WindowsKernel

extension FamilyDescriptor {
  /// Timers with a DPC in every processor's timer table.
  public static let timerDpc = FamilyDescriptor(
    id: "timer-dpc", title: "Timer DPCs (every processor's KPRCB.TimerTable)",
    registration: "KeSetTimer / KeSetTimerEx / KeSetCoalescableTimer with a KDPC",
    heads: [FamilyHead("KiProcessorBlock", .code(exports: ["KeQueryPrcbAddress"], shape: .table))],
    symbols: ["KeNumberProcessors", "KiWaitNever", "KiWaitAlways", "KeQueryPrcbAddress"],
    structs: ["_KTIMER_TABLE", "_KTIMER_TABLE_ENTRY", "_KTIMER", "_KDPC", "_DISPATCHER_HEADER", "_KPRCB"],
    builds: 7600...Int.max, listing: .deviations, reader: TimerDpcReader())
}

/// Reads the timer tables of every processor.
public struct TimerDpcReader: CallbackFamily {
  public var ids: [String] { ["timer-dpc"] }
  public init() {}

  /// KOBJECTS values (ntosdef.h, as Volatility's KTIMER.VALID_TYPES): timer and DPC object types.
  static let timerTypes: [UInt64: String] = [8: "notification", 9: "synchronization"]
  static let dpcTypes: Set<UInt64> = [0x13, 0x18]  // DpcObject, ThreadedDpcObject
  /// Timers read at most per list.
  static let bound = 65_536

  public func collect(_ c: CallbackContext) -> [FamilyResult] {
    let id = "timer-dpc"
    let head: (address: UInt64, provenance: Provenance)
    let layout: Layout
    let processors: [UInt64]
    do throws(WindowsKernelError) {
      head = try c.head("KiProcessorBlock")
      layout = try Layout(c)
      processors = try ProcessorBlock.prcbs(c, block: head.address)
    } catch {
      return [FamilyResult(family: id, notLocated: error.description)]
    }
    var result = FamilyResult(family: id)
    let key: (never: UInt64, always: UInt64)?
    do { key = try Self.encodingKey(c) } catch {
      return [FamilyResult(family: id, notLocated: "KiWaitNever/KiWaitAlways unreadable: \(error)")]
    }
    for (number, prcb) in processors.enumerated() {
      let table = prcb &+ layout.timerTable &+ layout.timerEntries
      for bucket in 0..<Int(layout.entryCount) {
        let listHead = table &+ UInt64(bucket) &* layout.entrySize &+ layout.entryList
        // Most buckets are empty (Flink = the head): skip them before building a walk and its name.
        if c.pointer(listHead) == listHead, c.pointer(listHead &+ c.pointerSize) == listHead { continue }
        let list = c.list(listHead, what: "KPRCB[\(number)].TimerTable.TimerEntries[\(bucket)]", bound: Self.bound)
        if let warning = list.warning { result.warnings.append("timer-dpc: " + warning) }
        for link in list.entries {
          read(
            timer: link &- layout.timerListEntry, processor: number, bucket: bucket, head: (table, head.provenance),
            c, layout, key: key, into: &result)
        }
      }
    }
    return [result]
  }

  /// KiWaitNever and KiWaitAlways, when the build encodes KTIMER.Dpc (nil: the profile has neither,
  /// so the stored pointers are used as they are); a key the profile names must be readable.
  static func encodingKey(_ c: CallbackContext) throws(WindowsKernelError) -> (never: UInt64, always: UInt64)? {
    guard let never = try? c.kernel.address(of: "KiWaitNever"), let always = try? c.kernel.address(of: "KiWaitAlways")
    else { return nil }
    return (try c.kernel.readUnsigned(never, width: 8), try c.kernel.readUnsigned(always, width: 8))
  }

  /// The KDPC a timer's Dpc member stands for.
  public static func decode(_ raw: UInt64, timer: UInt64, never: UInt64, always: UInt64) -> UInt64 {
    let shift = Int(never & 0xFF) % 64
    let rotated = shift == 0 ? raw ^ never : ((raw ^ never) << shift) | ((raw ^ never) >> (64 - shift))
    return (rotated ^ timer).byteSwapped ^ always
  }

  /// Member offsets and the table's shape, all from the profile.
  struct Layout {
    let timerTable, timerEntries, entrySize, entryList, entryCount: UInt64
    let timerListEntry, dpc, dueTime, period, dpcRoutine, dpcContext: UInt64

    init(_ c: CallbackContext) throws(WindowsKernelError) {
      timerTable = try c.offset("_KPRCB", "TimerTable")
      timerEntries = try c.offset("_KTIMER_TABLE", "TimerEntries")
      entrySize = try c.kernel.size(of: "_KTIMER_TABLE_ENTRY")
      entryList = try c.offset("_KTIMER_TABLE_ENTRY", "Entry")
      // TimerEntries runs to TableState (Windows 10) or the end of the table (Windows 7/8).
      let end: UInt64
      if let state = c.profile.field("_KTIMER_TABLE", "TableState"), state.offset > 0 {
        end = UInt64(state.offset)
      } else {
        end = try c.kernel.size(of: "_KTIMER_TABLE")  // Windows 7/8: no TableState
      }
      guard entrySize > 0, end > timerEntries, (end - timerEntries) % entrySize == 0 else {
        throw .implausible(
          address: 0, structure: "_KTIMER_TABLE.TimerEntries",
          detail: "\(end &- timerEntries) bytes are no whole number of \(entrySize)-byte entries")
      }
      entryCount = (end - timerEntries) / entrySize
      timerListEntry = try c.offset("_KTIMER", "TimerListEntry")
      dpc = try c.offset("_KTIMER", "Dpc")
      dueTime = try c.offset("_KTIMER", "DueTime")
      period = try c.offset("_KTIMER", "Period")
      dpcRoutine = try c.offset("_KDPC", "DeferredRoutine")
      dpcContext = try c.offset("_KDPC", "DeferredContext")
    }
  }

  /// One timer: a row when it is a timer object with a DPC whose routine is set.
  private func read(
    timer: UInt64, processor: Int, bucket: Int, head: (address: UInt64, provenance: Provenance),
    _ c: CallbackContext, _ l: Layout, key: (never: UInt64, always: UInt64)?, into result: inout FamilyResult
  ) {
    let at = Hex.format(timer)
    guard let type = try? c.kernel.readUnsigned(timer, width: 1) else {
      result.warnings.append("timer-dpc: _KTIMER at \(at): Header.Type unreadable")
      return
    }
    guard let kind = Self.timerTypes[type] else { return }  // not a timer: Volatility skips these too
    guard let raw = c.pointer(timer &+ l.dpc) else {
      result.warnings.append("timer-dpc: _KTIMER.Dpc at \(Hex.format(timer &+ l.dpc)) unreadable")
      return
    }
    guard raw != 0 else { return }
    // The decoded pointer when it is a KDPC, else the stored one (a build that does not encode it).
    var candidates: [(UInt64, Bool)] = []
    if let key { candidates.append((Self.decode(raw, timer: timer, never: key.never, always: key.always), true)) }
    candidates.append((raw, false))
    guard
      let (dpc, encoded) = candidates.first(where: { candidate in
        c.kernel.isKernelAddress(candidate.0)
          && (try? c.kernel.readUnsigned(candidate.0, width: 1)).map { Self.dpcTypes.contains($0) } == true
      })
    else {
      result.warnings.append("timer-dpc: _KTIMER at \(at): Dpc \(Hex.format(raw)) is no KDPC, decoded or not")
      return
    }
    guard let routine = c.pointer(dpc &+ l.dpcRoutine) else {
      result.warnings.append("timer-dpc: _KDPC.DeferredRoutine at \(Hex.format(dpc &+ l.dpcRoutine)) unreadable")
      return
    }
    guard routine != 0 else { return }
    var reads = FieldReads(c, profileStruct: "_KTIMER", at: timer)
    let kernel = c.kernel
    let due = reads.value("DueTime", at: timer &+ l.dueTime) { va throws(WindowsKernelError) in
      try kernel.readUnsigned(va, width: 8)
    }
    let period = reads.value("Period", at: timer &+ l.period) { va throws(WindowsKernelError) in
      try kernel.readUnsigned(va, width: 4)
    }
    result.warnings += reads.warnings.map { "timer-dpc: \($0)" }
    result.entries.append(
      CallbackEntry(
        family: "timer-dpc", head: head.address, headSymbol: "KiProcessorBlock[\(processor)].TimerTable",
        index: bucket, rawValue: raw, routine: routine, object: timer,
        details: [
          ("processor", .int(Int64(processor))), ("timerType", .string(kind)), ("dpc", .address(dpc)),
          ("dpcEncoded", .bool(encoded)), ("context", c.pointer(dpc &+ l.dpcContext).map(DetailValue.address) ?? .null),
          ("dueTime", due.map { .int(Int64(bitPattern: $0)) } ?? .null),
          ("periodMs", period.map { .int(Int64($0)) } ?? .null),
        ],
        provenance: head.provenance))
  }
}
