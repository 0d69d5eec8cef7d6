// `callscope watch` output: one JSON object per event (JSON Lines: `schema`, `event`, `time`, then
// the row as `callbacks`, `modules`, `processes` or `kct` print it), one `tick` object per tick, and
// the same events as one text line each for a terminal.

import Analysis
import BinaryReading
import Callbacks
import WindowsKernel

/// Renders watch events and ticks.
public enum WatchEventReport {
  /// What one tick measured, for its `tick` object.
  public struct Tick: Sendable {
    /// Milliseconds the enumeration took (pause and resume excluded).
    public var tickMs: Double
    /// Whether the guest was stopped for the enumeration (`--pause`).
    public var paused: Bool
    /// Milliseconds the guest stayed stopped, when paused.
    public var pauseMs: Double?
    /// Number of events the tick produced.
    public var events: Int
    /// Whether the state changed while it was read, twice in a row (`smeared`: no events taken).
    public var smeared: Bool
    /// Pages that changed while read (on the last try).
    public var changedPages: Int
    public var warnings: [String]
    public init(
      tickMs: Double, paused: Bool, pauseMs: Double?, events: Int, smeared: Bool, changedPages: Int,
      warnings: [String]
    ) {
      self.tickMs = tickMs
      self.paused = paused
      self.pauseMs = pauseMs
      self.events = events
      self.smeared = smeared
      self.changedPages = changedPages
      self.warnings = warnings
    }
  }

  static func header(_ event: String, time: String) -> [(String, JSONValue)] {
    [("schema", .string("callscope/1")), ("event", .string(event)), ("time", .string(time))]
  }

  static func members(_ value: JSONValue) -> [(String, JSONValue)] {
    if case .object(let m) = value { return m }
    return []
  }

  static func moduleJSON(_ m: LoadedModule) -> [(String, JSONValue)] {
    [("name", .string(m.name)), ("path", .string(m.path)), ("base", .address(m.base)), ("size", .address(m.size))]
  }

  static func processJSON(_ p: WindowsKernel.Process) -> [(String, JSONValue)] {
    [
      ("pid", .int(Int64(clamping: p.pid))), ("ppid", .int(Int64(clamping: p.ppid))), ("name", .string(p.name)),
      ("eprocess", .address(p.eprocess)), ("dtb", .address(p.dtb)), ("peb", p.peb == 0 ? .null : .address(p.peb)),
    ]
  }

  /// One event as a JSON object.
  public static func json(_ event: WatchEvent, time: String) -> JSONValue {
    var m = header(event.name, time: time)
    switch event {
    case .added(let row), .removed(let row):
      m += members(CallbacksReport.rowJSON(row))
    case .changed(let before, let after, let changes):
      m += members(CallbacksReport.rowJSON(after))
      m.append(("before", CallbacksReport.rowJSON(before)))
      m.append(("changes", .array(changes.map { .string($0) })))
    case .moduleLoaded(let module), .moduleUnloaded(let module):
      m += moduleJSON(module)
    case .processStarted(let process), .processExited(let process):
      m += processJSON(process)
    case .tablePointerChanged(let before, let after):
      m += members(CallbackTableReport.processJSON(after, allSlots: false))
      m.append(("previousTable", .address(before.table)))
    case .tableSlotChanged(let table, let before, let after):
      m += [
        ("pid", .int(Int64(clamping: table.process.pid))), ("name", .string(table.process.name)),
        ("table", .address(table.table)), ("index", .int(Int64((after ?? before)?.index ?? 0))),
        ("before", before.map(CallbackTableReport.slotJSON) ?? .null),
        ("after", after.map(CallbackTableReport.slotJSON) ?? .null),
      ]
    }
    return .object(m)
  }

  /// The `tick` object.
  public static func json(_ tick: Tick, time: String) -> JSONValue {
    var m = header("tick", time: time)
    m.append(("tickMs", thousandths(tick.tickMs)))
    m.append(("paused", .bool(tick.paused)))
    if let pause = tick.pauseMs { m.append(("pauseMs", thousandths(pause))) }
    m.append(("events", .int(Int64(tick.events))))
    if tick.smeared { m.append(("smeared", .bool(true))) }
    if tick.changedPages > 0 { m.append(("changedPages", .int(Int64(tick.changedPages)))) }
    if !tick.warnings.isEmpty { m.append(("warnings", .array(tick.warnings.map { .string($0) }))) }
    return .object(m)
  }

  /// The `smeared` event: the state changed while it was read, on the try and on the retry.
  public static func smearedJSON(changedPages: Int, time: String) -> JSONValue {
    .object(
      header("smeared", time: time) + [
        ("changedPages", .int(Int64(changedPages))),
        ("reason", .string("memory the walk read changed before the tick ended, twice; this tick's state is not used")),
      ])
  }

  /// Milliseconds as a number with three decimals.
  static func thousandths(_ ms: Double) -> JSONValue {
    .thousandths(ms.isFinite && ms.magnitude < 1e12 ? Int64((ms * 1000).rounded()) : 0)  // in range: no trap
  }

  /// The `kernel-rediscovered` event: ntoskrnl is no longer where it was (a reboot, another system
  /// in the file); discovery ran again, and the next events compare the old state with the new by
  /// module and offset, as `diff` compares two images.
  public static func rediscoveredJSON(_ kernel: KernelImage, time: String) -> JSONValue {
    .object(
      header("kernel-rediscovered", time: time) + [
        ("base", .address(kernel.base)),
        (
          "pdb",
          .object([
            ("name", .string(kernel.pdb.name)), ("guid", .string(kernel.pdb.guid)),
            ("age", .int(Int64(kernel.pdb.age))),
          ])
        ),
      ])
  }

  /// The `kernel-lost` event: no kernel could be found this tick (the state is kept).
  public static func kernelLostJSON(reason: String, time: String) -> JSONValue {
    .object(header("kernel-lost", time: time) + [("reason", .string(reason))])
  }

  /// One event as a table line: time, event, then what it is about.
  public static func line(_ event: WatchEvent, time: String) -> String {
    let what: String
    switch event {
    case .added(let row), .removed(let row):
      what =
        "\(row.entry.family) #\(row.entry.index.map(String.init) ?? "-") \(Hex.format(row.entry.routine)) \(owner(row))"
        + (row.flags.isEmpty ? "" : " [\(row.flags.joined(separator: ","))]")
    case .changed(let before, let after, let changes):
      what =
        "\(after.entry.family) #\(after.entry.index.map(String.init) ?? "-") \(owner(after)) (was \(owner(before))): "
        + changes.joined(separator: "; ")
    case .moduleLoaded(let m), .moduleUnloaded(let m):
      what = "\(m.name) \(Hex.format(m.base)) size \(Hex.format(m.size))"
    case .processStarted(let p), .processExited(let p):
      what = "\(p.pid) \(p.name) (ppid \(p.ppid))"
    case .tablePointerChanged(let before, let after):
      what =
        "\(after.process.pid) \(after.process.name): \(Hex.format(before.table)) → \(Hex.format(after.table))"
        + (after.flags.isEmpty ? "" : " [\(after.flags.joined(separator: ","))]")
    case .tableSlotChanged(let table, let before, let after):
      let index = (after ?? before)?.index ?? 0
      what =
        "\(table.process.pid) \(table.process.name) slot \(index)"
        + " \(before.map { Hex.format($0.routine) } ?? "-") → \(after.map { Hex.format($0.routine) } ?? "-")"
        + (after?.name.map { " (\($0))" } ?? "")
    }
    return "\(time)  \(event.name.padding(to: 20))\(what)\n"
  }

  static func owner(_ row: CallbackRow) -> String {
    row.owner.map { $0.symbol ?? $0.moduleOffsetText } ?? "(no module)"
  }
}

extension String {
  fileprivate func padding(to width: Int) -> String {
    count >= width ? self + " " : self + String(repeating: " ", count: width - count)
  }
}
