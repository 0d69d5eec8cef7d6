// A 32-bit Windows-like guest as flat virtual memory, for the x86 trace tests over a scripted GDB
// stub (TraceX86Stub): the x86 kernel (TraceX86Kernel) mapped at its base with a KPCR and an IDT
// whose divide-error handler lies in it, two processes (EPROCESS, PEB → Ldr → an i686 user32.dll and
// a win32u.dll copy of it) and their threads (ETHREAD, KTRAP_FRAME: Eip in a user32 function, or in
// a win32u stub with the user32 return address at [HardwareEsp], or in a win32u function with an
// EBP frame whose return address is at [Ebp+4]), all at the published x86 offsets. Each hit sets
// KPRCB.CurrentThread and the kernel stack ([esp] a return address, [esp+4] the ApiNumber).

import Foundation
import TestData

/// The x86 guest's memory and what `trace` must report about it.
final class TraceX86Guest: @unchecked Sendable {
  // @unchecked: the stub's thread is the only one touching `pages` once the trace runs.
  struct Thread {
    var process: Int
    var tid: UInt64
    var caller: String
    var callerOffset: UInt64
    /// How the trap frame reaches the caller: `.direct` (Eip in user32), `.leaf` (Eip in win32u,
    /// return address at [esp]), `.framed` (Eip in win32u, return address at [ebp+4]).
    var kind: Kind
    enum Kind { case direct, leaf, framed }
  }

  static let processes: [(name: String, pid: UInt64, cr3: UInt64)] = [
    ("explorer.exe", 0x0C34, 0x0018_5000), ("notepad.exe", 0x0F08, 0x0019_A000),
  ]
  static let threads: [Thread] = [
    Thread(process: 0, tid: 0x0A04, caller: "SendMessageW", callerOffset: 0x5, kind: .direct),
    Thread(process: 1, tid: 0x0B10, caller: "DispatchMessageW", callerOffset: 0x4, kind: .leaf),
    Thread(process: 0, tid: 0x0A08, caller: "PeekMessageW", callerOffset: 0x6, kind: .framed),
    Thread(process: 1, tid: 0x0B14, caller: TraceUser32.internalCaller, callerOffset: 0x9, kind: .direct),
  ]
  /// One round of hits: (thread, ApiNumber).
  static let sequence: [(thread: Int, api: Int)] = [(0, 2), (1, 0), (2, 8), (3, 4), (0, 6), (1, 9), (2, 1)]

  static let kpcr: UInt64 = 0x8300_0000
  static let idt: UInt64 = 0x8300_1000
  static let kernelStack: UInt64 = 0x8304_0F00
  static let win32uOffset: UInt64 = 0x0100_0000
  static let pageSize: UInt64 = 0x1000

  let kernel: TraceX86Kernel
  let user32: TraceUser32
  private(set) var pages: [UInt64: [UInt8]] = [:]
  private(set) var ethreads: [UInt64] = []
  var keUserModeCallback: UInt64 { kernel.pe.imageBase + (kernel.pe.exports["KeUserModeCallback"] ?? 0) }

  init() throws {
    kernel = try TraceX86Kernel.build()
    user32 = try TraceUser32.build(x86: true)
    try layOut()
  }

  // MARK: Memory

  /// `count` bytes at `va`, nil when a page is not mapped.
  func read(_ va: UInt64, count: Int) -> [UInt8]? {
    var out: [UInt8] = []
    var at = va
    while out.count < count {
      guard let page = pages[at & ~(Self.pageSize - 1)] else { return nil }
      let within = Int(at & (Self.pageSize - 1))
      let take = min(count - out.count, Int(Self.pageSize) - within)
      out += page[within..<(within + take)]
      at += UInt64(take)
    }
    return out
  }

  func write(_ bytes: [UInt8], at va: UInt64) {
    for (i, byte) in bytes.enumerated() {
      let address = va + UInt64(i)
      let base = address & ~(Self.pageSize - 1)
      var page = pages[base] ?? [UInt8](repeating: 0, count: Int(Self.pageSize))
      page[Int(address - base)] = byte
      pages[base] = page
    }
  }

  func write32(_ value: UInt64, at va: UInt64) {
    write((0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }, at: va)
  }

  func write16(_ value: UInt64, at va: UInt64) {
    write((0..<2).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }, at: va)
  }

  /// A hit of `entry`: the current thread and the kernel stack; the registers the stub reports.
  func enter(_ entry: Int) -> (esp: UInt64, cr3: UInt64) {
    let (thread, api) = Self.sequence[entry % Self.sequence.count]
    write32(
      ethreads[thread], at: Self.kpcr + TraceX86Kernel.Offset.kpcrPrcbData + TraceX86Kernel.Offset.prcbCurrentThread)
    write32(kernel.pe.imageBase + 0x1000, at: Self.kernelStack)  // a return address in the kernel
    write32(UInt64(api), at: Self.kernelStack + 4)
    return (Self.kernelStack, Self.processes[Self.threads[thread].process].cr3)
  }

  // MARK: Layout

  private func map(_ pe: LinkedImage, at base: UInt64) {
    write(pe.headers, at: base)
    for section in pe.sections { write(section.bytes, at: base + section.rva) }
    // Pages of the image the file leaves zero-filled.
    var page = base
    while page < base + pe.sizeOfImage {
      if pages[page] == nil { pages[page] = [UInt8](repeating: 0, count: Int(Self.pageSize)) }
      page += Self.pageSize
    }
  }

  private func map(user32 pe: TraceUser32, at base: UInt64) {
    write(pe.headers, at: base)
    for section in pe.sections { write(section.bytes, at: base + section.rva) }
  }

  private func layOut() throws {
    typealias O = TraceX86Kernel.Offset
    map(kernel.pe, at: kernel.pe.imageBase)
    write32(Self.kpcr, at: Self.kpcr + O.kpcrSelf)
    write32(Self.kpcr + O.kpcrPrcbData, at: Self.kpcr + O.kpcrPrcb)
    write32(Self.idt, at: Self.kpcr + O.kpcrIdt)
    // KIDTENTRY: Offset (low 16 bits) at 0, Selector 2, Access 4, ExtendedOffset (high 16) at 6.
    let handler = kernel.pe.imageBase + (kernel.pe.exports["KiDivideErrorFault"] ?? 0)
    write16(handler & 0xFFFF, at: Self.idt)
    write16(0x08, at: Self.idt + 2)
    write16(0x8E00, at: Self.idt + 4)
    write16(handler >> 16, at: Self.idt + 6)
    write32(0, at: Self.kernelStack + 8)

    var eprocesses: [UInt64] = []
    for (i, process) in Self.processes.enumerated() {
      let eprocess = 0x8303_0000 + UInt64(i) * 0x400
      let peb = 0x7FFD_0000 + UInt64(i) * 0x1_0000
      let ldr = peb + 0x100
      write32(process.pid, at: eprocess + O.processPid)
      write(Array(process.name.utf8.prefix(14)), at: eprocess + O.processImageFileName)
      write32(peb, at: eprocess + O.processPeb)
      write32(ldr, at: peb + O.pebLdr)
      let head = ldr + O.ldrInLoadOrder
      let modules: [(name: String, base: UInt64)] = [
        ("user32.dll", user32.imageBase), ("win32u.dll", user32.imageBase + Self.win32uOffset),
      ]
      let entries = modules.indices.map { peb + 0x200 + UInt64($0) * 0x80 }
      let chain = [head] + entries  // InLoadOrderLinks at 0 of each entry
      for (k, link) in chain.enumerated() {
        write32(chain[(k + 1) % chain.count], at: link)
        write32(chain[(k + chain.count - 1) % chain.count], at: link + 4)
      }
      for (k, module) in modules.enumerated() {
        let name = Array(module.name.utf16).flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        let buffer = peb + 0x400 + UInt64(k) * 0x40
        write(name + [0, 0], at: buffer)
        write32(module.base, at: entries[k] + O.entryDllBase)
        write32(user32.sizeOfImage, at: entries[k] + O.entrySizeOfImage)
        write16(UInt64(name.count), at: entries[k] + O.entryBaseDllName)
        write16(UInt64(name.count + 2), at: entries[k] + O.entryBaseDllName + 2)
        write32(buffer, at: entries[k] + O.entryBaseDllName + O.stringBuffer)
      }
      eprocesses.append(eprocess)
    }
    map(user32: user32, at: user32.imageBase)
    map(user32: user32, at: user32.imageBase + Self.win32uOffset)

    for (i, thread) in Self.threads.enumerated() {
      let ethread = 0x8301_0000 + UInt64(i) * 0x400
      let trap = 0x8302_0000 + UInt64(i) * 0x100
      let stack = 0x0012_0000 + UInt64(i) * 0x100
      guard let callerRVA = user32.rva(of: thread.caller), let stub = user32.exports["CreateWindowExW"],
        let framed = user32.exports[TraceUser32.framed]
      else { throw CLI.Missing(description: "x86 user32 lacks \(thread.caller)") }
      let ret = user32.imageBase + callerRVA + thread.callerOffset
      var eip = ret
      var ebp: UInt64 = 0
      switch thread.kind {
      case .direct: break
      case .leaf:
        eip = user32.imageBase + Self.win32uOffset + stub + 2
        write32(ret, at: stack)
      case .framed:
        eip = user32.imageBase + Self.win32uOffset + framed + 3
        write32(0x0BAD_0000, at: stack)  // not a return address into user32
        ebp = stack + 0x40
        write32(0, at: ebp)
        write32(ret, at: ebp + 4)
      }
      write32(eip, at: trap + O.trapEip)
      write32(stack, at: trap + O.trapHardwareEsp)
      write32(ebp, at: trap + O.trapEbp)
      write32(eprocesses[thread.process], at: ethread + O.threadApcState + O.apcStateProcess)
      write32(trap, at: ethread + O.threadTrapFrame)
      write32(Self.processes[thread.process].pid, at: ethread + O.ethreadCid)
      write32(thread.tid, at: ethread + O.ethreadCid + O.cidUniqueThread)
      ethreads.append(ethread)
    }
  }

  /// What `trace` must say for sequence entry `i`: (ApiNumber, name, pid, process, tid, caller).
  func expected(entry i: Int) -> (index: Int, name: String, pid: UInt64, process: String, tid: UInt64, caller: String) {
    let (threadIndex, api) = Self.sequence[i % Self.sequence.count]
    let thread = Self.threads[threadIndex]
    let process = Self.processes[thread.process]
    let caller = "user32!\(thread.caller)+0x\(String(thread.callerOffset, radix: 16))"
    return (api, TraceUser32.slots[api], process.pid, process.name, thread.tid, caller)
  }
}
