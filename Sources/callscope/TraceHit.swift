// One stop at nt!KeUserModeCallback: the ApiNumber (RCX on x64; on x86 the first stack argument,
// [esp+4] above the return address), the KPCR from the segment base that holds it in kernel mode
// (GS on x64, FS on x86), KPRCB.CurrentThread → ETHREAD → ApcState.Process → EPROCESS, the
// process filter (first by CR3, so a filtered-out process's later hits read no memory), then the
// thread id, the trap frame and the names. Pointers are read at the guest's pointer size.

import BinaryReading
import Foundation
import GDBRemote

extension TraceSession {
  /// The event of one hit, or nil when its process is filtered out.
  func hit(_ registers: [Int: [UInt8]], index: Int) throws -> TraceEvent? {
    let width = layout.pointerSize
    let space = cr3.flatMap { registers[$0] }.map(GDBClient.littleEndian)
    if let ram = memory.ram {
      guard let space else { throw TraceError.kernel("the stub sent no cr3 for this stop (needed with --ram)") }
      ram.stopped(cr3: space)
    }
    if let space, let known = processByCR3[space], !passes(pid: known.pid, name: known.name) { return nil }
    let apiNumber = try self.apiNumber(registers)
    let kpcr: UInt64
    if let value = registers[kpcrBase].map(GDBClient.littleEndian) {
      kpcr = value
    } else {
      kpcr = try client.readRegister(architecture.kpcrRegister)
    }
    let thread = try memory.unsigned(kpcr &+ layout.currentThread, width: width, what: "KPCR.Prcb.CurrentThread")
    // ApcState.Process, TrapFrame and Cid.UniqueThread in one read when they are close (1 KiB apart
    // on 19041), else one read each.
    let first = min(layout.apcProcess, layout.trapFrame, layout.uniqueThread)
    let span = max(layout.apcProcess, layout.trapFrame, layout.uniqueThread) + UInt64(width) - first  // max ≥ first
    let block = span <= 1900 ? try? memory.read(thread &+ first, count: Int(span), what: "ETHREAD") : nil
    func member(_ offset: UInt64, _ what: String) throws -> UInt64 {
      if let block, let value = try? Self.word(block, at: Int(offset - first), width: width) { return value }
      return try memory.unsigned(thread &+ offset, width: width, what: what)
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

    // Thread id and trap frame (one read over the frame's members).
    let tid = try? member(layout.uniqueThread, "ETHREAD.Cid.UniqueThread")
    var trapRip: UInt64?
    var trapRsp: UInt64?
    var trapRbp: UInt64?
    if let trap = try? member(layout.trapFrame, "KTHREAD.TrapFrame"), trap != 0 {
      let members = [layout.trapRip, layout.trapRsp] + (layout.trapRbp.map { [$0] } ?? [])
      let lo = members.min() ?? layout.trapRip
      let hi = (members.max() ?? layout.trapRsp) + UInt64(width)
      if let bytes = try? memory.read(trap &+ lo, count: Int(hi - lo), what: "KTRAP_FRAME") {
        trapRip = try? Self.word(bytes, at: Int(layout.trapRip - lo), width: width)
        trapRsp = try? Self.word(bytes, at: Int(layout.trapRsp - lo), width: width)
        trapRbp = layout.trapRbp.flatMap { try? Self.word(bytes, at: Int($0 - lo), width: width) }
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

  /// KeUserModeCallback's first argument: RCX on x64; on x86 the 32-bit stack slot above the return
  /// address ([esp+4]).
  func apiNumber(_ registers: [Int: [UInt8]]) throws -> UInt64 {
    if let rcx {
      guard let value = registers[rcx].map(GDBClient.littleEndian) else {
        throw TraceError.kernel("the stub sent no rcx for this stop")
      }
      return value & 0xFFFF_FFFF  // ULONG ApiNumber
    }
    guard let esp = registers[rsp].map(GDBClient.littleEndian) else {
      throw TraceError.kernel("the stub sent no esp for this stop")
    }
    return try memory.unsigned((esp & 0xFFFF_FFFF) &+ 4, width: 4, what: "the ApiNumber argument ([esp+4])")
  }

  /// A little-endian word of `width` (4 or 8) bytes at `offset` of `bytes`.
  static func word(_ bytes: [UInt8], at offset: Int, width: Int) throws -> UInt64 {
    let cursor = ByteCursor(bytes)
    return width == 4 ? UInt64(try cursor.getLE(UInt32.self, at: offset)) : try cursor.getLE(UInt64.self, at: offset)
  }

  /// Whether the filters let a process through.
  func passes(pid: UInt64, name: String) -> Bool {
    filters.isEmpty || filters.contains { $0.matches(pid: pid, name: name) }
  }

  /// UniqueProcessId and ImageFileName, in one read (both in EPROCESS, a few hundred bytes apart).
  func identify(_ eprocess: UInt64) throws -> (UInt64, String) {
    let width = UInt64(layout.pointerSize)
    let low = min(layout.pid, layout.imageFileName)
    let high = max(layout.pid + width, layout.imageFileName + 15)
    let what = "EPROCESS.UniqueProcessId/ImageFileName"
    let block = try memory.read(eprocess &+ low, count: Int(high - low), what: what)
    let pid = try Self.word(block, at: Int(layout.pid - low), width: layout.pointerSize)
    let nameStart = Int(layout.imageFileName - low)
    let nameBytes = block[nameStart..<(nameStart + 15)].prefix { $0 != 0 }
    return (pid, String(decoding: nameBytes, as: UTF8.self))
  }
}
