// The bootable synthetic guest of the `trace` tests. WindowsImageBuilder lays out a Windows-like
// memory image (ntoskrnl at a KASLR-like base with the 19041 build's SizeOfImage and symbol RVAs, its
// page tables); this file adds a KPCR, two processes (EPROCESS, own page tables, PEB → Ldr → user32.dll
// built by clang/lld-link, and a win32u.dll) with their threads (ETHREAD, KTRAP_FRAME whose Rip lies
// in a user32 export; for one thread in a win32u leaf "syscall stub" with the user32 return address at
// its Rsp; for another in the body of a win32u function with a stack frame, the return address above
// that frame), and a loop in executable kernel memory. A multiboot stub (clang + ld.lld, 32-bit ELF, booted
// with `-kernel`) enters long mode on the image's kernel page tables and jumps to the loop, which for
// each entry of a fixed sequence switches CR3 to the process, sets KPRCB.CurrentThread (through GS
// base = the KPCR) and calls KeUserModeCallback(ApiNumber) at its profile RVA. Offsets: the ISF.

import Foundation
import ImageBuilder
import TestData

/// The built guest and what the tests expect `trace` to report.
struct TraceGuest {
  struct Thread {
    var process: Int
    var tid: UInt64
    var caller: String
    var callerOffset: UInt64
    /// Where the trap frame's Rip lies instead, when the thread entered the kernel from a syscall stub
    /// in win32u (export, offset); the user32 caller is then the return address at the trap frame's Rsp.
    var stub: (export: String, offset: UInt64)? = nil
    /// A torn thread: its ApcState.Process points to unmapped memory (the trace must warn and go on).
    var broken = false
    /// The stub is TraceUser32.framed (not a leaf): the user32 return address lies above its frame.
    var framed = false
  }

  static let processes: [(name: String, pid: UInt64)] = [("explorer.exe", 0x1234), ("notepad.exe", 0x2F08)]
  static let threads: [Thread] = [
    Thread(process: 0, tid: 0x1A04, caller: "SendMessageW", callerOffset: 0x5),
    Thread(process: 0, tid: 0x1A08, caller: "CreateWindowExW", callerOffset: 0x3),
    Thread(process: 1, tid: 0x2B10, caller: "DispatchMessageW", callerOffset: 0x4),
    Thread(process: 1, tid: 0x2B14, caller: "PeekMessageW", callerOffset: 0x6, stub: ("CreateWindowExW", 0x2)),
    Thread(process: 0, tid: 0x1A0C, caller: "SendMessageW", callerOffset: 0x1, broken: true),
    Thread(
      process: 1, tid: 0x2C04, caller: "SendMessageW", callerOffset: 0x7, stub: (TraceUser32.framed, 0x8), framed: true),
    // In a user32 function that is not exported: named from user32's PDB.
    Thread(process: 0, tid: 0x1A10, caller: TraceUser32.internalCaller, callerOffset: 0x9),
  ]
  /// One round of the loop: (thread, ApiNumber).
  static let sequence: [(thread: Int, api: Int)] = [
    (0, 2), (2, 0), (1, 8), (3, 4), (0, 2), (2, 6), (3, 9), (1, 1), (4, 7), (0, 3), (2, 5), (5, 3), (6, 7),
  ]
  /// The sequence entries `trace` reports (all but the torn thread's).
  static var reportable: [Int] { sequence.indices.filter { !threads[sequence[$0].thread].broken } }
  /// Hits per round that are unreadable.
  static var unreadablePerRound: Int { sequence.count - reportable.count }
  /// Where the multiboot stub is linked and loaded (above the image's 64 MiB, identity mapped).
  static let stubAddress: UInt64 = 0x0410_0000
  static let memorySize: UInt64 = 0x0400_0000
  /// win32u.dll's base in both processes (the same DLL bytes as user32, under that name: its exports
  /// stand in for the syscall stubs).
  static let win32uOffset: UInt64 = 0x1000_0000

  /// The trap frame's Rsp of a thread (a user stack page is mapped there for win32u threads).
  static func userStack(_ thread: Thread) -> UInt64 { 0xA0_0F00_0000 + thread.tid * 0x100 }

  let directory: URL
  let bootStub: String
  let memoryFile: String
  let kernelBase: UInt64
  let keUserModeCallback: UInt64
  /// The loop's round counter (a kernel virtual address).
  let roundsCounter: UInt64
  let user32: TraceUser32
  let isf: TraceISF

  /// QEMU arguments that boot this guest.
  var qemuArguments: [String] {
    ["-kernel", bootStub, "-device", "loader,file=\(memoryFile),addr=0x100000,force-raw=on"]
  }

  static func build() throws -> TraceGuest {
    let isf = try TraceISF.load()
    let user32 = try TraceUser32.build()
    let dir = user32.directory

    var symbols: [String: UInt64] = [:]
    for name in DemoScenario.variables + ["KeUserModeCallback"] { symbols[name] = try? isf.rva(name) }
    var configuration = WindowsImageConfiguration(seed: 0x7ACE)
    configuration.memorySize = memorySize
    configuration.kernelBuild = KernelBuildFacts(sizeOfImage: 0xE0_4000, symbols: symbols)
    configuration.decoys = false
    // The kernel exports KeUserModeCallback (as the real one does), for `trace --no-symbols`.
    configuration.codeExports = ["KeUserModeCallback"]
    let builder = try WindowsImageBuilder(configuration)
    let kernelBase = builder.truth.kernelBase
    let kumc = kernelBase + (try isf.rva("KeUserModeCallback"))
    try builder.write([0x31, 0xC0, 0xC3], at: kumc)  // xor eax, eax; ret

    // The stub's pages, identity mapped in the kernel tables (the far jump into long mode runs there).
    try builder.kernelTables.map(va: stubAddress, pa: stubAddress, length: 0x4000, size: .size4K, flags: [.writable])

    // KPCR (with its embedded KPRCB) and a kernel stack.
    let kpcr = try builder.allocateKernelMemory(try isf.size("_KPCR"), alignment: 0x1000)
    let prcb = kpcr + (try isf.offset("_KPCR", "Prcb"))
    try builder.writeLE(kpcr, at: kpcr + (try isf.offset("_KPCR", "Self")))
    try builder.writeLE(prcb, at: kpcr + (try isf.offset("_KPCR", "CurrentPrcb")))
    // An IDT whose entry 0 (the divide-error handler) lies in ntoskrnl's .text, behind KPCR.IdtBase:
    // what `trace` finds the kernel from without --kernel-base (KIDTENTRY64 offsets from the ISF).
    let idt = try builder.allocateKernelMemory(0x1000, alignment: 0x1000)
    let handler = kernelBase + 0x1000 + 0x240
    try builder.writeLE(idt, at: kpcr + (try isf.offset("_KPCR", "IdtBase")))
    try builder.writeLE(UInt16(handler & 0xFFFF), at: idt + (try isf.offset("_KIDTENTRY64", "OffsetLow")))
    try builder.writeLE(UInt16((handler >> 16) & 0xFFFF), at: idt + (try isf.offset("_KIDTENTRY64", "OffsetMiddle")))
    try builder.writeLE(UInt32(handler >> 32), at: idt + (try isf.offset("_KIDTENTRY64", "OffsetHigh")))
    let stack = try builder.allocateKernelMemory(0x4000, alignment: 0x1000)
    let loopPage = try builder.allocateExecutableKernelPage()

    // Processes: page tables, EPROCESS, PEB, Ldr with user32.dll, the DLL mapped at its preferred base.
    var eprocesses: [UInt64] = []
    var roots: [UInt64] = []
    for (i, process) in processes.enumerated() {
      let tables = try builder.addProcess(name: process.name)
      let peb: UInt64 = 0x0000_00A0_1230_0000 + UInt64(i) * 0x10_0000
      try builder.mapFreshPages(in: tables, va: peb, length: 0x2000, flags: [.writable, .user, .noExecute])
      let ldr = peb + 0x1000
      let entry = ldr + 0x100
      let nameBuffer = ldr + 0x400
      let dllSize = (user32.sizeOfImage + 0xFFF) & ~0xFFF
      try builder.mapFreshPages(in: tables, va: user32.imageBase, length: dllSize, flags: [.writable, .user])
      try tables.write(user32.headers, at: user32.imageBase)
      for section in user32.sections { try tables.write(section.bytes, at: user32.imageBase + section.rva) }
      let win32u = user32.imageBase + win32uOffset
      try builder.mapFreshPages(in: tables, va: win32u, length: dllSize, flags: [.writable, .user])
      try tables.write(user32.headers, at: win32u)
      for section in user32.sections { try tables.write(section.bytes, at: win32u + section.rva) }
      // User stacks of this process's win32u threads: the return address into user32 at Rsp.
      for thread in threads where thread.process == i && thread.stub != nil {
        let rsp = userStack(thread)
        try builder.mapFreshPages(in: tables, va: rsp & ~0xFFF, length: 0x1000, flags: [.writable, .user, .noExecute])
        let ret = user32.imageBase + (user32.rva(of: thread.caller) ?? 0) + thread.callerOffset
        var slot = rsp
        if thread.framed, let stub = thread.stub {
          // The trap Rip is in the framed function's body: past its prolog, before its end.
          let frame = user32.framedUnwind
          guard stub.offset >= frame.prolog, frame.begin + stub.offset < frame.end else {
            throw CLI.Missing(description: "\(stub.export)+\(stub.offset) is not in its body: \(frame)")
          }
          slot = rsp + frame.frameSize
        }
        try tables.write((0..<8).map { UInt8(truncatingIfNeeded: ret >> (8 * UInt64($0))) }, at: slot)
      }

      func put(_ value: UInt64, _ type: String, _ field: String, base: UInt64, width: Int = 8) throws {
        var raw: [UInt8] = []
        for b in 0..<width { raw.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(b)))) }
        try tables.write(raw, at: base + (try isf.offset(type, field)))
      }
      try put(ldr, "_PEB", "Ldr", base: peb)
      try put(user32.imageBase + (user32.exports["apfnDispatch"] ?? 0), "_PEB", "KernelCallbackTable", base: peb)
      let head = ldr + (try isf.offset("_PEB_LDR_DATA", "InLoadOrderModuleList"))
      let modules: [(name: String, base: UInt64)] = [("user32.dll", user32.imageBase), ("win32u.dll", win32u)]
      let linkOffset = try isf.offset("_LDR_DATA_TABLE_ENTRY", "InLoadOrderLinks")
      let chain = [head] + modules.indices.map { entry + UInt64($0) * 0x100 + linkOffset }
      for (k, link) in chain.enumerated() {
        try put(chain[(k + 1) % chain.count], "_LIST_ENTRY", "Flink", base: link)
        try put(chain[(k + chain.count - 1) % chain.count], "_LIST_ENTRY", "Blink", base: link)
      }
      for (k, module) in modules.enumerated() {
        let record = entry + UInt64(k) * 0x100
        let buffer = nameBuffer + UInt64(k) * 0x40
        try put(module.base, "_LDR_DATA_TABLE_ENTRY", "DllBase", base: record)
        try put(user32.sizeOfImage, "_LDR_DATA_TABLE_ENTRY", "SizeOfImage", base: record, width: 4)
        let name = Array(module.name.utf16).flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        try tables.write(name + [0, 0], at: buffer)
        for field in ["BaseDllName", "FullDllName"] {
          let string = record + (try isf.offset("_LDR_DATA_TABLE_ENTRY", field))
          try put(UInt64(name.count), "_UNICODE_STRING", "Length", base: string, width: 2)
          try put(UInt64(name.count + 2), "_UNICODE_STRING", "MaximumLength", base: string, width: 2)
          try put(buffer, "_UNICODE_STRING", "Buffer", base: string)
        }
      }

      let eprocess = try builder.allocateKernelMemory(try isf.size("_EPROCESS"), alignment: 0x10)
      try builder.writeLE(tables.root, at: eprocess + (try isf.offset("_EPROCESS", "Pcb.DirectoryTableBase")))
      try builder.writeLE(process.pid, at: eprocess + (try isf.offset("_EPROCESS", "UniqueProcessId")))
      try builder.write(
        Array(process.name.utf8.prefix(14)), at: eprocess + (try isf.offset("_EPROCESS", "ImageFileName")))
      try builder.writeLE(peb, at: eprocess + (try isf.offset("_EPROCESS", "Peb")))
      eprocesses.append(eprocess)
      roots.append(tables.root)
    }

    // Threads: ETHREAD with ApcState.Process, Cid, TrapFrame → KTRAP_FRAME (Rip in a user32 export).
    var ethreads: [UInt64] = []
    for thread in threads {
      let ethread = try builder.allocateKernelMemory(try isf.size("_ETHREAD"), alignment: 0x10)
      let trap = try builder.allocateKernelMemory(try isf.size("_KTRAP_FRAME"), alignment: 0x10)
      guard let export = user32.rva(of: thread.caller) else { throw CLI.Missing(description: "no \(thread.caller)") }
      var rip = user32.imageBase + export + thread.callerOffset
      if let stub = thread.stub {
        guard let stubExport = user32.exports[stub.export] else { throw CLI.Missing(description: "no \(stub.export)") }
        rip = user32.imageBase + win32uOffset + stubExport + stub.offset
      }
      try builder.writeLE(rip, at: trap + (try isf.offset("_KTRAP_FRAME", "Rip")))
      try builder.writeLE(userStack(thread), at: trap + (try isf.offset("_KTRAP_FRAME", "Rsp")))
      let process = thread.broken ? 0xFFFF_C0DE_0000_0000 : eprocesses[thread.process]
      try builder.writeLE(process, at: ethread + (try isf.offset("_ETHREAD", "Tcb.ApcState.Process")))
      try builder.writeLE(process, at: ethread + (try isf.offset("_ETHREAD", "Tcb.Process")))
      try builder.writeLE(trap, at: ethread + (try isf.offset("_ETHREAD", "Tcb.TrapFrame")))
      try builder.writeLE(
        processes[thread.process].pid, at: ethread + (try isf.offset("_ETHREAD", "Cid.UniqueProcess")))
      try builder.writeLE(thread.tid, at: ethread + (try isf.offset("_ETHREAD", "Cid.UniqueThread")))
      ethreads.append(ethread)
    }

    // The loop, assembled for its kernel address, and the boot stub.
    let table = sequence.map { entry -> String in
      let thread = threads[entry.thread]
      return "  .quad \(hex(ethreads[entry.thread])), \(hex(roots[thread.process])), \(entry.api)"
    }
    let currentThread = (try isf.offset("_KPCR", "Prcb")) + (try isf.offset("_KPRCB", "CurrentThread"))
    let loopSource = """
      .intel_syntax noprefix
      .text
      .globl _start
      _start:
        movabs rsp, \(hex(stack + 0x3F00))
        mov ecx, 0xC0000101
        movabs rax, \(hex(kpcr))
        mov rdx, rax
        shr rdx, 32
        wrmsr
      outer:
        lea rsi, [rip + table]
        mov r12d, \(sequence.count)
      inner:
        mov rax, [rsi + 8]
        mov cr3, rax
        mov rax, [rsi]
        mov gs:[\(hex(currentThread))], rax
        mov ecx, [rsi + 16]
        xor edx, edx
        xor r8d, r8d
        movabs rax, \(hex(kumc))
        call rax
        add rsi, 24
        dec r12d
        jnz inner
        lock inc qword ptr [rip + rounds]
        jmp outer
      .org 0x800
      rounds: .quad 0
      table:
      \(table.joined(separator: "\n"))

      """
    let loop = try assemble(loopSource, name: "loop", target: "x86_64-pc-none-elf", at: loopPage, in: dir)
    guard loop.count <= 0x1000 else { throw CLI.Missing(description: "loop code of \(loop.count) bytes") }
    try builder.write(loop, at: loopPage)

    let stubSource = """
      .intel_syntax noprefix
      .section .multiboot, "a"
      .balign 4
        .long 0x1BADB002
        .long 0
        .long -0x1BADB002
      .text
      .code32
      .globl _start
      _start:
        cli
        lgdt [gdtr]
        mov eax, cr4
        or eax, 0x20
        mov cr4, eax
        mov eax, \(hex(builder.truth.dtb))
        mov cr3, eax
        mov ecx, 0xC0000080
        rdmsr
        or eax, 0x900
        wrmsr
        mov eax, cr0
        or eax, 0x80000001
        mov cr0, eax
        ljmp 0x08, offset long_mode
      .code64
      long_mode:
        mov ax, 0x10
        mov ds, ax
        mov es, ax
        mov ss, ax
        movabs rax, \(hex(loopPage))
        jmp rax
      .balign 8
      gdt:
        .quad 0
        .quad 0x00AF9A000000FFFF
        .quad 0x00CF92000000FFFF
      gdtr:
        .word 23
        .long gdt

      """
    let bootStub = try linkStub(stubSource, in: dir)
    let raw = dir.appendingPathComponent("memory.raw").path
    try builder.writeRaw(to: raw)
    let memory = dir.appendingPathComponent("memory.bin").path
    let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: raw))
    try handle.seek(toOffset: 0x10_0000)
    let data = handle.readDataToEndOfFile()
    try handle.close()
    try data.write(to: URL(fileURLWithPath: memory))
    try FileManager.default.removeItem(atPath: raw)
    return TraceGuest(
      directory: dir, bootStub: bootStub, memoryFile: memory, kernelBase: kernelBase, keUserModeCallback: kumc,
      roundsCounter: loopPage + 0x800, user32: user32, isf: isf)
  }

  static func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }

  /// `source` assembled and linked as a flat binary at `address`.
  static func assemble(_ source: String, name: String, target: String, at address: UInt64, in dir: URL) throws
    -> [UInt8]
  {
    let s = dir.appendingPathComponent("\(name).s")
    try source.write(to: s, atomically: true, encoding: .utf8)
    let o = dir.appendingPathComponent("\(name).o").path
    let bin = dir.appendingPathComponent("\(name).bin").path
    let cc = try TestData.run(try TestData.which("clang"), ["--target=\(target)", "-c", s.path, "-o", o])
    guard cc.status == 0 else { throw TestDataError.tool("clang (\(name)): \(cc.stderr)") }
    let ld = try TestData.run(
      try TestData.which("ld.lld"), ["--oformat=binary", "-Ttext=\(hex(address))", "-e", "_start", o, "-o", bin])
    guard ld.status == 0 else { throw TestDataError.tool("ld.lld (\(name)): \(ld.stderr)") }
    return [UInt8](try Data(contentsOf: URL(fileURLWithPath: bin)))
  }

  /// The multiboot stub as a 32-bit ELF linked at `stubAddress`.
  static func linkStub(_ source: String, in dir: URL) throws -> String {
    let s = dir.appendingPathComponent("boot.s")
    try source.write(to: s, atomically: true, encoding: .utf8)
    let o = dir.appendingPathComponent("boot.o").path
    let elf = dir.appendingPathComponent("boot.elf").path
    let script = dir.appendingPathComponent("boot.ld")
    try """
    ENTRY(_start)
    SECTIONS { . = \(hex(stubAddress)); .text : { *(.multiboot) *(.text) } }
    """.write(to: script, atomically: true, encoding: .utf8)
    let cc = try TestData.run(try TestData.which("clang"), ["--target=i386-pc-none-elf", "-c", s.path, "-o", o])
    guard cc.status == 0 else { throw TestDataError.tool("clang (boot stub): \(cc.stderr)") }
    let ld = try TestData.run(try TestData.which("ld.lld"), ["-m", "elf_i386", "-T", script.path, o, "-o", elf])
    guard ld.status == 0 else { throw TestDataError.tool("ld.lld (boot stub): \(ld.stderr)") }
    return elf
  }
}
