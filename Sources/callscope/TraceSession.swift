// The trace loop: a breakpoint on nt!KeUserModeCallback, and per hit the ApiNumber (RCX), the current
// thread and process through GS base → KPCR, the process filter first (so unrelated hits cost a few
// packets), then the thread id, the trap frame and the names; then step over the breakpoint and
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
  var processes: [UInt64: TraceProcessInfo] = [:]
  var summary = TraceSummary()
  /// Register numbers of RCX, RIP, GS base and CR3 in `g` replies.
  let rcx: Int
  let rip: Int
  let gsBase: Int
  let cr3: Int?
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

  init(
    memory: TraceMemory, layout: TraceLayout, breakpoint: UInt64, filters: [TraceProcessFilter], symbols: SymbolOptions
  ) throws {
    client = memory.client
    self.memory = memory
    self.layout = layout
    self.breakpoint = breakpoint
    self.filters = filters
    symbolFiles = TraceSymbolFiles(options: symbols)
    rcx = try client.register("rcx").number
    rip = try client.register("rip").number
    gsBase = try client.register("gs_base").number
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
      let pc = try client.readRegister("rip")
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

  /// The event of one hit, or nil when its process is filtered out.
  func hit(_ registers: [Int: [UInt8]], index: Int) throws -> TraceEvent? {
    let apiNumber = registers[rcx].map(GDBClient.littleEndian) ?? 0
    let kpcr: UInt64
    if let value = registers[gsBase].map(GDBClient.littleEndian) {
      kpcr = value
    } else {
      kpcr = try client.readRegister("gs_base")
    }
    let space = cr3.flatMap { registers[$0] }.map(GDBClient.littleEndian)
    if let ram = memory.ram {
      guard let space else { throw TraceError.kernel("the stub sent no cr3 for this stop (needed with --ram)") }
      ram.stopped(cr3: space)
    }
    if let space, let known = processByCR3[space], !passes(pid: known.pid, name: known.name) { return nil }
    let thread = try memory.unsigned(kpcr &+ layout.currentThread, what: "KPCR.Prcb.CurrentThread")
    // ApcState.Process, TrapFrame and Cid.UniqueThread in one read when they are close (1 KiB apart
    // on 19041), else one read each.
    let members = [layout.apcProcess, layout.trapFrame, layout.uniqueThread]
    let first = members.min() ?? 0
    let span = (members.max() ?? 0) + 8 - first
    let block = span <= 1900 ? try? memory.read(thread &+ first, count: Int(span), what: "ETHREAD") : nil
    func member(_ offset: UInt64, _ what: String) throws -> UInt64 {
      if let block, let value = try? ByteCursor(block).getLE(UInt64.self, at: Int(offset - first)) { return value }
      return try memory.unsigned(thread &+ offset, what: what)
    }
    let eprocess = try member(layout.apcProcess, "ETHREAD.Tcb.ApcState.Process")
    let pid: UInt64
    let process: String
    if let space, let known = processByCR3[space], known.eprocess == eprocess {
      (pid, process) = (known.pid, known.name)
    } else {
      (pid, process) = try identify(eprocess)
      if let space { processByCR3[space] = (eprocess, pid, process) }
    }
    if !passes(pid: pid, name: process) { return nil }

    // Thread id and trap frame (one read over both members when they are close).
    let tid = try? member(layout.uniqueThread, "ETHREAD.Cid.UniqueThread")
    var trapRip: UInt64?
    var trapRsp: UInt64?
    var trapRbp: UInt64?
    if let trap = try? member(layout.trapFrame, "KTHREAD.TrapFrame"), trap != 0 {
      let members = [layout.trapRip, layout.trapRsp] + (layout.trapRbp.map { [$0] } ?? [])
      let lo = members.min() ?? layout.trapRip
      let hi = (members.max() ?? layout.trapRsp) + 8
      if let bytes = try? memory.read(trap &+ lo, count: Int(hi - lo), what: "KTRAP_FRAME") {
        let frame = ByteCursor(bytes, origin: trap &+ lo, source: "KTRAP_FRAME")
        trapRip = try? frame.getLE(UInt64.self, at: Int(layout.trapRip - lo))
        trapRsp = try? frame.getLE(UInt64.self, at: Int(layout.trapRsp - lo))
        trapRbp = layout.trapRbp.flatMap { try? frame.getLE(UInt64.self, at: Int($0 - lo)) }
      }
    }
    var info =
      processes[eprocess]
      ?? TraceProcessInfo.read(eprocess: eprocess, memory: memory, layout: layout, symbolFiles: symbolFiles)
    if processes[eprocess] == nil { summary.warnings.append(contentsOf: info.warnings) }
    let ripSymbol = trapRip.flatMap { info.symbolize($0, memory: memory) }
    let caller = callerSymbol(rip: trapRip, rsp: trapRsp, rbp: trapRbp, ripSymbol: ripSymbol, info: &info)
    processes[eprocess] = info
    return TraceEvent(
      time: Date(), index: index, apiNumber: apiNumber, name: info.callbackNames[Int(truncatingIfNeeded: apiNumber)],
      pid: pid, process: process, tid: tid, thread: thread, eprocess: eprocess, caller: caller, trapFrameRip: trapRip,
      trapFrameSymbol: ripSymbol)
  }

  /// Whether the filters let a process through.
  func passes(pid: UInt64, name: String) -> Bool {
    filters.isEmpty || filters.contains { $0.matches(pid: pid, name: name) }
  }

  /// UniqueProcessId and ImageFileName, in one read (both in EPROCESS, a few hundred bytes apart).
  func identify(_ eprocess: UInt64) throws -> (UInt64, String) {
    let low = min(layout.pid, layout.imageFileName)
    let high = max(layout.pid + 8, layout.imageFileName + 15)
    let what = "EPROCESS.UniqueProcessId/ImageFileName"
    let block = try memory.read(eprocess &+ low, count: Int(high - low), what: what)
    let pid = try ByteCursor(block, origin: eprocess &+ low, source: what).getLE(UInt64.self, at: Int(layout.pid - low))
    let nameStart = Int(layout.imageFileName - low)
    let nameBytes = block[nameStart..<(nameStart + 15)].prefix { $0 != 0 }
    return (pid, String(decoding: nameBytes, as: UTF8.self))
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
