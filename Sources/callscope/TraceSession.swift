// The trace loop: a breakpoint on nt!KeUserModeCallback; per hit (TraceHit) the ApiNumber, the
// current thread and process through the KPCR, the process filter first (so unrelated hits cost a
// few packets), then the thread id, the trap frame and the names; then step over the breakpoint and
// continue. Whatever ends the trace — count, deadline, SIGINT, an error — the breakpoint is removed and
// the guest resumed (detach), so it is never left stopped or patched.

import BinaryReading
import Foundation
import GDBRemote
import Symbols

/// A running trace against one stub.
final class TraceSession {
  let client: GDBClient
  let memory: TraceMemory
  let layout: TraceLayout
  let breakpoint: UInt64
  let filters: [TraceProcessFilter]
  let symbolFiles: TraceSymbolFiles
  let architecture: TraceArchitecture
  var processes: [UInt64: TraceProcessInfo] = [:]
  var summary = TraceSummary()
  /// Register numbers in `g` replies: RCX (x64's ApiNumber), the PC, the stack pointer, the KPCR's
  /// segment base (GS on x64, FS on x86) and CR3.
  let rcx: Int?
  let rip: Int
  let rsp: Int
  let kpcrBase: Int
  let cr3: Int?
  /// The stub's name of the PC register (`rip` or `eip`).
  let pcName: String
  /// Processes by the CR3 their threads run KeUserModeCallback with (kernel mode: the process's
  /// DirectoryTableBase), so a filtered-out process's later hits cost no memory reads at all.
  var processByCR3: [UInt64: (eprocess: UInt64, pid: UInt64, name: String)] = [:]
  /// Whether the stub single-steps over a breakpoint still inserted (QEMU does: a step overrides
  /// breakpoints); nil until the first hit tried it.
  var stepsOverBreakpoints: Bool?
  /// Whether the breakpoint is in the target now (it is out while stepping over it the slow way), so
  /// that `finish` removes only a breakpoint that is there.
  var inserted = false
  /// `client.haltQueries` when the breakpoint was inserted: a `?` since (the interrupt's fallback
  /// after a lost stop reply) may have removed it on QEMU.
  var haltQueriesAtInsertion = 0
  /// `client.connection.packetsSent` at the last hit (TraceSummary.packets).
  var packetsAtHit = 0

  init(
    memory: TraceMemory, layout: TraceLayout, architecture: TraceArchitecture, breakpoint: UInt64,
    filters: [TraceProcessFilter], symbols: SymbolOptions
  ) throws {
    client = memory.client
    self.memory = memory
    self.layout = layout
    self.architecture = architecture
    self.breakpoint = breakpoint
    self.filters = filters
    symbolFiles = TraceSymbolFiles(options: symbols, undecorate: architecture == .x86)
    pcName = TraceArchitecture.register("rip", in: client)
    rcx = architecture == .x64 ? try client.register("rcx").number : nil
    rip = try client.register(pcName).number
    rsp = try client.register(TraceArchitecture.register("rsp", in: client)).number
    kpcrBase = try client.register(architecture.kpcrRegister).number
    cr3 = client.layout.register(named: "cr3")?.number
    if memory.ram != nil, cr3 == nil {
      throw TraceError.kernel("--ram needs the cr3 register, which the stub's target description lacks")
    }
  }

  /// Why the wait for the next hit ended without one.
  enum Stop: String {
    case count = "count reached"
    case deadline = "duration elapsed"
    case interrupted = "interrupted"
  }

  /// Traces until `count` events were reported, `until` seconds passed or SIGINT; `emit` gets each event.
  func run(count: Int?, until: Double?, emit: (TraceEvent) -> Void) throws -> [TraceEvent] {
    var events: [TraceEvent] = []
    let start = Date()
    do {
      try client.insertBreakpoint(.software, at: breakpoint)
      inserted = true
      haltQueriesAtInsertion = client.haltQueries
    } catch {
      // A refusal is the breakpoint's problem; a dead link is reported as itself.
      switch error {
      case .errorReply, .unsupported, .unexpectedReply:
        throw TraceError.breakpoint(address: breakpoint, reason: "\(error)")
      default: throw error
      }
    }
    defer { summary.seconds = Date().timeIntervalSince(start) }
    while true {
      if let count, events.count >= count {
        summary.stopReason = Stop.count.rawValue
        break
      }
      try client.resume()
      guard let stop = try waitForHit(start: start, until: until) else { break }
      guard case .signal = stop.kind else {
        throw TraceError.kernel("the target ended (\(stop.kind)) while traced")
      }
      let packetsAtStop = client.connection.packetsSent
      if summary.hits > 0 { summary.packets += packetsAtStop - packetsAtHit }
      packetsAtHit = packetsAtStop
      // A known process that the filters drop costs one `p` (CR3), the step and the `c`: a SIGTRAP
      // after `c` is this breakpoint (the only one set; QEMU gives the guest its own int3).
      if try filteredByCR3(stop) {
        summary.hits += 1
        summary.filteredOut += 1
        try stepOverBreakpoint()
        continue
      }
      let registers = try client.readAllRegisters()
      guard let pc = registers[rip].map(GDBClient.littleEndian), pc == breakpoint else {
        continue  // another stop (a debugger's interrupt); resume
      }
      summary.hits += 1
      do {
        if let event = try hit(registers, index: summary.hits) {
          events.append(event)
          summary.reported += 1
          emit(event)
        } else {
          summary.filteredOut += 1
        }
      } catch let error as TraceError {
        // A structure unreadable at one hit (paged out, torn) is a warning; the trace goes on.
        summary.unreadable += 1
        if summary.unreadable <= 20 { summary.warnings.append("hit \(summary.hits): \(error)") }
      }
      try stepOverBreakpoint()
    }
    return events
  }

  /// Whether a breakpoint stop's process is known and filtered out, by its CR3 (one `p`); false when
  /// the stop needs the full look (no filters, an unknown CR3, another signal).
  func filteredByCR3(_ stop: GDBStopReply) throws -> Bool {
    guard !filters.isEmpty, !processByCR3.isEmpty, cr3 != nil, stop.kind == .signal(5) else { return false }
    let space = try client.readRegister("cr3")
    guard let known = processByCR3[space] else { return false }
    return !passes(pid: known.pid, name: known.name)
  }

  /// Waits for the next stop, checking the SIGINT flag and the deadline every 100 ms; nil when one of
  /// them ends the trace (the target is stopped again then).
  func waitForHit(start: Date, until: Double?) throws -> GDBStopReply? {
    while true {
      if TraceSignals.interrupted {
        summary.stopReason = Stop.interrupted.rawValue
        _ = try client.interrupt()
        return nil
      }
      if let until, Date().timeIntervalSince(start) >= until {
        summary.stopReason = Stop.deadline.rawValue
        _ = try client.interrupt()
        return nil
      }
      if let stop = try client.waitForStop(timeout: 0.1) { return stop }
    }
  }

  /// Executes the breakpoint's instruction. Where the stub steps over an inserted breakpoint (tried at
  /// the first hit: the PC must have moved) that is one `s`; otherwise the breakpoint is removed for
  /// the step and put back, as GDB does.
  func stepOverBreakpoint() throws {
    if stepsOverBreakpoints != false {
      _ = try client.step()
      if stepsOverBreakpoints == true { return }
      let pc = try client.readRegister(pcName)
      stepsOverBreakpoints = pc != breakpoint
      if pc != breakpoint { return }
    }
    try client.removeBreakpoint(.software, at: breakpoint)
    inserted = false
    _ = try client.step()
    try client.insertBreakpoint(.software, at: breakpoint)
    inserted = true
    haltQueriesAtInsertion = client.haltQueries
  }

  /// Removes the breakpoint and resumes the guest (detach); never throws, reports what failed.
  func finish() -> [String] {
    var problems: [String] = []
    do {
      if client.running { _ = try client.interrupt() }
    } catch { problems.append("stopping the guest to clean up: \(error)") }
    if inserted {
      do {
        try client.removeBreakpoint(.software, at: breakpoint)
        inserted = false
      } catch .errorReply where client.haltQueries > haltQueriesAtInsertion {
        inserted = false  // removed by the stub when `?` was asked (QEMU does)
      } catch { problems.append("removing the breakpoint: \(error)") }
    }
    do { try client.detach() } catch { problems.append("resuming the guest (detach): \(error)") }
    client.close()
    return problems
  }
}

/// One `--process` value: a PID (decimal or 0x hex) or an image name (case-insensitive, compared on
/// the 14 characters EPROCESS.ImageFileName keeps).
struct TraceProcessFilter {
  var pid: UInt64?
  var name: String

  init(_ text: String) {
    name = text.lowercased()
    if text.hasPrefix("0x") || text.hasPrefix("0X") {
      pid = UInt64(text.dropFirst(2), radix: 16)
    } else {
      pid = UInt64(text)
    }
  }

  func matches(pid: UInt64, name: String) -> Bool {
    if let p = self.pid { return p == pid }
    let n = name.lowercased()
    return n == self.name || (n.count >= 14 && self.name.hasPrefix(n))
  }
}
