// The user-mode caller of a hit: from the trap frame (Rip, Rsp, Rbp) the user stack is unwound with
// each module's .pdata/UNWIND_INFO (read from the process through the stub) until a return address
// lies in user32; a function without a .pdata entry is a leaf, whose return address is at [rsp].
// x86 images have no function tables: there the return address at [esp] (a leaf syscall stub) is
// tried, then the EBP chain ([ebp+4] the return address, [ebp] the caller's EBP).

import PortableExecutable

extension TraceModule {
  /// The module's PE image over guest memory (headers read once).
  func image(memory: TraceMemory) -> PEImage? {
    let source = TraceModuleSource(memory: memory, base: base, size: size, sourceName: name)
    return try? PEImage(source: source, layout: .mapped)
  }
}

extension TraceSession {
  /// Frames unwound at most per hit.
  static let maximumFrames = 32

  /// The user32 frame that led to the system call: the trap frame's Rip when it lies in user32; else
  /// the first return address in user32 found by unwinding the user stack (at most `maximumFrames`
  /// frames); else the Rip's own symbol.
  func callerSymbol(
    rip: UInt64?, rsp: UInt64?, rbp: UInt64?, ripSymbol: String?, info: inout TraceProcessInfo
  ) -> String? {
    guard let rip else { return nil }
    guard let user32 = info.modules.first(where: { $0.name.lowercased() == "user32.dll" }) else { return ripSymbol }
    if user32.contains(rip) { return ripSymbol }
    guard let rsp else { return ripSymbol }
    if architecture == .x86 {
      return framePointerCaller(rsp: rsp, ebp: rbp, in: user32, info: &info) ?? ripSymbol
    }
    var context = UnwindContext(rip: rip, rsp: rsp, registers: rbp.map { [5: $0] } ?? [:])
    for _ in 0..<Self.maximumFrames {
      guard let caller = unwindStep(context, info: &info) else { break }
      if user32.contains(caller.rip) { return info.symbolize(caller.rip, memory: memory) }
      // The stack only grows towards callers: a frame that does not move up is corrupt or a loop.
      guard caller.rsp > context.rsp else { break }
      context = caller
    }
    return ripSymbol
  }

  /// x86: the first return address in user32 at [esp], then up the EBP chain (at most
  /// `maximumFrames` frames, each frame above the last).
  func framePointerCaller(rsp: UInt64, ebp: UInt64?, in user32: TraceModule, info: inout TraceProcessInfo) -> String? {
    let read = { (va: UInt64) -> UInt64? in try? self.memory.unsigned(va, width: 4, what: "the user stack") }
    if let ret = read(rsp), user32.contains(ret) { return info.symbolize(ret, memory: memory) }
    var frame = ebp
    for _ in 0..<Self.maximumFrames {
      guard let at = frame, at != 0, let ret = read(at &+ 4) else { return nil }
      if user32.contains(ret) { return info.symbolize(ret, memory: memory) }
      guard let next = read(at), next > at else { return nil }  // frames only go up
      frame = next
    }
    return nil
  }

  /// One frame up from `context`, or nil when its RIP is in no module or the stack is unreadable.
  func unwindStep(_ context: UnwindContext, info: inout TraceProcessInfo) -> UnwindContext? {
    let read = { (va: UInt64) -> UInt64? in try? self.memory.unsigned(va, what: "the user stack") }
    guard let index = info.modules.firstIndex(where: { $0.contains(context.rip) }) else { return nil }
    if info.functions[index] == nil {
      let image = info.modules[index].image(memory: memory)
      info.functions[index] = (image, (try? image?.exceptionDirectory()) ?? [])
    }
    guard let (image, table) = info.functions[index] else { return nil }
    let rva = UInt32(truncatingIfNeeded: context.rip - info.modules[index].base)  // rip - base < size
    guard let image, let function = RuntimeFunction.lookup(rva, in: table) else {
      guard let ret = read(context.rsp) else { return nil }  // a leaf: nothing pushed, no frame
      return UnwindContext(rip: ret, rsp: context.rsp &+ 8, registers: context.registers)
    }
    guard let unwind = try? image.unwindInfo(at: function.unwindInfoAddress) else { return nil }
    return try? unwind.virtualUnwind(
      context, offset: rva - function.beginAddress, read: read,
      chain: { rva throws(PEError) in try image.unwindInfo(at: rva) })
  }
}
