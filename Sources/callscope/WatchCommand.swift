// `callscope watch SOURCE`: re-reads a running guest's callbacks on every tick and prints what
// changed (issue 15). SOURCE is the guest's RAM: a QEMU memory-backend file (or memfd under
// /proc/PID/fd), or a raw image something rewrites in place.

import Analysis
import ArgumentParser
import BinaryReading
import Live
import MemoryImage
import Reports
import WindowsKernel

#if canImport(Glibc)
  import Glibc
#endif

/// `--format` of `watch`.
enum WatchFormat: String, ExpressibleByArgument, CaseIterable {
  case table, jsonl
}

struct WatchCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "watch",
    abstract: "Watch a running guest's callbacks: an event for each callback, module, process or table that changes.",
    discussion: """
      SOURCE is the guest's RAM: QEMU's -object memory-backend-file,…,mem-path=FILE,share=on (or a memfd \
      under /proc/PID/fd), or a raw image rewritten in place. The RAM layout comes from QEMU through --qmp \
      (info mtree), else from --ram-layout (flat, pc, q35 or split:SIZE), else it is the default of \
      QEMU's default machine type, pc (i440FX): RAM of 3.5 GiB or more splits at 3 GiB, the rest from \
      4 GiB; a smaller file reads flat. Each tick reads every callback family, the modules, the \
      processes and their KernelCallbackTables; a tick whose memory changed while read is read again, \
      then reported as smeared. Events are matched as `callscope diff` matches callbacks. JSON Lines: \
      one object per event and one "tick" object per tick. On a terminal the table also redraws one \
      status line on stderr (tick, tick time, callbacks, processes, running or paused); piped, it \
      writes no escape codes. SIGINT or SIGTERM ends the watch with status 0; a source that vanishes \
      or shrinks ends it with status 2.
      """)

  @Argument(help: "The guest's RAM: a memory-backend file, /proc/PID/fd/N of a memfd, or a raw image.")
  var source: String

  @OptionGroup var overrides: DiscoveryOverrides

  var discoveryOptions: DiscoveryOptions { overrides.discoveryOptions }

  @OptionGroup var symbolOptions: SymbolOptions

  @Option(help: "Time between ticks: 200ms, 1s, 5m.")
  var interval = "1s"

  @Option(help: "Stop after this many ticks.")
  var count: Int?

  @Option(help: "Stop after this long (200ms, 1s, 5m).")
  var until: String?

  @Option(help: "Output: table (one line per event) or jsonl (one object per event and per tick).")
  var format: WatchFormat = .table

  @Flag(help: "Print the first tick's callbacks as added events.")
  var baseline = false

  @Flag(help: "Stop the guest (QMP stop/cont) while each tick reads it; needs --qmp.")
  var pause = false

  @Option(help: "QEMU's QMP unix socket (-qmp unix:PATH,server,nowait): RAM layout, --pause, liveness.")
  var qmp: String?

  @Option(
    name: .customLong("ram-layout"),
    help: "Guest RAM layout in the file: flat, pc, q35 or split:SIZE (default: QEMU's with --qmp, else pc).")
  var ramLayout: String?

  func validate() throws {
    do {
      _ = try LiveDuration(parsing: interval)
      if let until { _ = try LiveDuration(parsing: until) }
      if let ramLayout { _ = try GuestRAMLayout(parsing: ramLayout, fileSize: 0) }
    } catch { throw ValidationError(error.description) }
    if let count, count < 1 { throw ValidationError("--count must be at least 1") }
    if count != nil, until != nil { throw ValidationError("give --count or --until, not both") }
    if pause, qmp == nil { throw ValidationError("--pause needs --qmp (the guest is stopped and resumed through QMP)") }
  }

  func run() throws {
    let period = try LiveDuration(parsing: interval)
    let limit = try until.map { try LiveDuration(parsing: $0) }
    WatchSignals.install()
    let source = try WatchSource.open(
      path: source, ramLayout: ramLayout, qmpPath: qmp,
      notes: { Terminal.standardError.write("callscope watch: \($0)\n") })
    let session = try KernelSession(
      memory: source.ram, discovery: discoveryOptions, symbols: symbolOptions)
    let ticker = WatchTicker(
      session: session, ram: source.ram, discovery: discoveryOptions, symbolOptions: symbolOptions)
    let output = WatchOutput(format: format)
    defer { output.finish() }
    let start = Clock.now
    var previous: WatchSnapshot?
    var ticks = 0
    while !WatchSignals.stopRequested {
      let tickStart = Clock.now
      let (outcome, pauseMs) = try readTick(ticker, qmp: source.qmp)
      var events: [WatchEvent] = []
      if let kernel = outcome.rediscovered { output.rediscovered(kernel) }
      if let snapshot = outcome.snapshot {
        if let previous {
          events = WatchEvent.between(previous, snapshot)
        } else if baseline {
          events = snapshot.callbacks.map(WatchEvent.added)
        }
        previous = snapshot
      } else if let reason = outcome.kernelLost {
        output.kernelLost(reason)
      } else {
        output.smeared(changedPages: outcome.changedPages)
      }
      output.events(events)
      let report = WatchEventReport.Tick(
        tickMs: outcome.milliseconds, paused: pauseMs != nil, pauseMs: pauseMs, events: events.count,
        smeared: outcome.snapshot == nil && outcome.kernelLost == nil, changedPages: outcome.changedPages,
        warnings: outcome.snapshot?.warnings ?? [])
      ticks += 1
      output.tick(report, number: ticks, state: previous)
      if let count, ticks >= count { break }
      let next = tickStart &+ period.nanoseconds
      if let limit, next >= start &+ limit.nanoseconds { break }
      WatchSignals.sleep(until: next)
    }
  }

  /// One tick, with the guest stopped around it under `--pause`; with QMP, also checks QEMU is there.
  private func readTick(_ ticker: WatchTicker, qmp: QMPClient?) throws -> (WatchTicker.Outcome, Double?) {
    guard let qmp else { return (try ticker.tick(), nil) }
    let state = try qmp.status()
    guard pause, state.running else { return (try ticker.tick(), nil) }
    let stopped = Clock.now
    try qmp.stop()
    // The guest is never left stopped: resume even when the tick fails.
    let outcome: WatchTicker.Outcome
    do { outcome = try ticker.tick() } catch {
      try? qmp.cont()
      throw error
    }
    try qmp.cont()
    return (outcome, Clock.milliseconds(since: stopped))
  }
}

/// Writes events as they come (each line written whole, so nothing is left unflushed at exit), and
/// on a terminal the live view's status line.
struct WatchOutput {
  let format: WatchFormat
  let live: WatchLiveView

  init(format: WatchFormat) {
    self.format = format
    live = WatchLiveView(format: format)
  }

  static func time() -> String {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    var t = time_t(ts.tv_sec)
    var parts = tm()
    gmtime_r(&t, &parts)
    func pad(_ v: Int32, _ width: Int) -> String {
      let s = String(v)
      return String(repeating: "0", count: max(0, width - s.count)) + s
    }
    let millis = Int32(ts.tv_nsec / 1_000_000)
    return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
      + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(millis, 3))Z"
  }

  func events(_ events: [WatchEvent]) {
    guard !events.isEmpty else { return }
    live.clear()
    let now = Self.time()
    let text: String
    switch format {
    case .jsonl: text = events.map { WatchEventReport.json($0, time: now).serialized(pretty: false) + "\n" }.joined()
    case .table: text = events.map { WatchEventReport.line($0, time: now) }.joined()
    }
    Terminal.standardOutput.write(text)
  }

  func smeared(changedPages: Int) {
    live.clear()
    let now = Self.time()
    switch format {
    case .jsonl:
      Terminal.standardOutput.write(
        WatchEventReport.smearedJSON(changedPages: changedPages, time: now).serialized(pretty: false) + "\n")
    case .table:
      Terminal.standardOutput.write("\(now)  smeared             \(changedPages) pages changed while read, twice\n")
    }
  }

  func kernelLost(_ reason: String) {
    live.clear()
    let now = Self.time()
    switch format {
    case .jsonl:
      Terminal.standardOutput.write(
        WatchEventReport.kernelLostJSON(reason: reason, time: now).serialized(pretty: false) + "\n")
    case .table: Terminal.standardOutput.write("\(now)  kernel-lost          \(reason)\n")
    }
  }

  func rediscovered(_ kernel: KernelImage) {
    live.clear()
    let now = Self.time()
    switch format {
    case .jsonl:
      Terminal.standardOutput.write(
        WatchEventReport.rediscoveredJSON(kernel, time: now).serialized(pretty: false) + "\n")
    case .table:
      Terminal.standardOutput.write(
        "\(now)  kernel-rediscovered  ntoskrnl at \(Hex.format(kernel.base)) (\(kernel.pdb.name) \(kernel.pdb.isfKey))\n"
      )
    }
  }

  /// The tick's object in JSON Lines; on a terminal, the status line of tick `number` (`state`: the
  /// last state read).
  func tick(_ tick: WatchEventReport.Tick, number: Int, state: WatchSnapshot?) {
    guard format == .jsonl else {
      live.redraw(tick: number, report: tick, callbacks: state?.callbacks.count, processes: state?.processes.count)
      return
    }
    Terminal.standardOutput.write(WatchEventReport.json(tick, time: Self.time()).serialized(pretty: false) + "\n")
  }

  /// At exit: the status line ends with a newline.
  func finish() { live.finish() }
}
