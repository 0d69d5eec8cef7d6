// Writes the synthetic kernel's export code: for each routine of ExportRoutine.kernelRoutines that
// the mirrored build has variables for, x64 code referencing those variables rip-relative, placed
// at the build's own RVA of the export when it falls in .text or PAGE and nothing else lies there,
// else in a free part of .text; the export table then names it. The shape of each export (the
// variables referenced by the export itself, or behind a call or jmp into an internal routine) and
// its registers are chosen from the seed among the shapes of the build's range.

/// How an export reaches the code that references its variables.
public enum ExportCodeShape: String, Sendable, Codable, CaseIterable {
  /// The export's own body references the variables (`lea rcx, [rip+head]`).
  case direct
  /// `sub rsp, 28h; mov r8d, 0; call Internal; add rsp, 28h; ret`.
  case callHop
  /// `xor r8d, r8d; jmp Internal` (a tail call, as PsSetCreateProcessNotifyRoutine is on Windows 10).
  case tailJump
  /// `jmp Internal` as the first instruction (a thunk).
  case thunk
  /// A thunk into a stub that calls the internal routine (two hops).
  case twoHops

  /// The shapes of a build range: Windows 7 kernels mostly reference their heads inline or behind
  /// one call; from 8 on tail jumps appear, from 10 thunks and two-hop chains.
  public static func allowed(build: Int) -> [ExportCodeShape] {
    if build < 9200 { return [.direct, .callHop] }
    if build < 10240 { return [.direct, .callHop, .tailJump] }
    return [.direct, .callHop, .tailJump, .thunk, .twoHops]
  }
}

/// What was written for one export.
public struct ExportCodeRecord: Sendable, Codable, Equatable {
  public var export: String
  public var shape: ExportCodeShape
  /// The register the head's address is taken into.
  public var register: String
  /// RVA of the export.
  public var rva: UInt64
  /// Whether the export lies at the build's own RVA of that routine.
  public var atBuildRVA: Bool
  /// The variables the code references (locks first, then heads, loads, counters, dispatch heads).
  public var variables: [String]
}

enum ExportCodeWriter {
  private struct Span {
    var name: String
    var start: UInt64
    var size: UInt64
    var index: Int
    var isCode: Bool { name == ".text" || name == "PAGE" }
  }

  private static let headRegisters: [X64Emitter.Register] = [.rcx, .rdx, .r8, .rdi, .rbx]

  /// Writes the code and exports into `pe` (already sized by `sizeLikeBuild`); returns what it wrote.
  static func write(into pe: inout PEBuilder, facts: KernelBuildFacts, build: Int, seed: UInt64) throws
    -> [ExportCodeRecord]
  {
    var random = SeededGenerator(seed: seed ^ 0xC0DE_5EED)
    var spans: [Span] = []
    var next: UInt64 = 0x1000
    for (i, s) in pe.sections.enumerated() {
      let size = UInt64(max(s.virtualSize ?? s.contents.count, s.contents.count))
      spans.append(Span(name: s.name, start: next, size: size, index: i))
      next = alignUp(next + max(size, 1), 0x1000)
    }
    guard let text = spans.first(where: { $0.name == ".text" }), text.start == 0x1000 else {
      throw ImageBuilderError.invalid("kernel template has no .text at RVA 0x1000")
    }
    let routines = ExportRoutine.kernelRoutines.compactMap { $0.present(in: facts.symbols) }
    let names = Set(routines.map(\.name))
    // Bytes already spoken for: the template's other exports, NtBuildNumber, every variable.
    var busy: [Range<UInt64>] = [0x1000..<0x1400]
    for export in pe.exports {
      guard let name = export.name, !names.contains(name), case .location(let at) = export.target,
        let span = spans.first(where: { $0.name == at.section })
      else { continue }
      busy.append((span.start + UInt64(at.offset))..<(span.start + UInt64(at.offset) + 0x10))
    }
    for name in DemoScenario.variables + routines.flatMap(\.variables) {
      if let rva = facts.symbols[name] { busy.append(rva..<(rva + 0x200)) }
    }
    let symbolRVAs = facts.symbols.values.sorted()
    func overlaps(_ r: Range<UInt64>) -> Range<UInt64>? { busy.first { $0.overlaps(r) } }
    func othersInside(_ r: Range<UInt64>) -> Bool {
      var lo = 0
      var hi = symbolRVAs.count
      while lo < hi {
        let mid = (lo + hi) / 2
        if symbolRVAs[mid] <= r.lowerBound { lo = mid + 1 } else { hi = mid }
      }
      return lo < symbolRVAs.count && symbolRVAs[lo] < r.upperBound
    }
    var cursor = text.start + 0x1000
    func allocate(_ length: Int) throws -> UInt64 {
      while true {
        let r = cursor..<(cursor + UInt64(length))
        guard r.upperBound <= text.start + text.size else {
          throw ImageBuilderError.invalid("no room in .text for \(length) bytes of export code")
        }
        if let conflict = overlaps(r) {
          cursor = alignUp(conflict.upperBound, 0x10)
          continue
        }
        busy.append(r)
        cursor = alignUp(r.upperBound, 0x10)
        return r.lowerBound
      }
    }
    func put(_ code: [UInt8], at rva: UInt64) throws {
      guard
        let span = spans.first(where: { $0.isCode && rva >= $0.start && rva + UInt64(code.count) <= $0.start + $0.size }
        )
      else { throw ImageBuilderError.invalid("export code at RVA \(hexText(rva)) is outside .text and PAGE") }
      let offset = Int(rva - span.start)
      var contents = pe.sections[span.index].contents
      if contents.count < offset + code.count {
        contents += [UInt8](repeating: 0, count: offset + code.count - contents.count)
      }
      contents.replaceSubrange(offset..<(offset + code.count), with: code)
      pe.sections[span.index].contents = contents
    }
    func location(_ rva: UInt64) throws -> PEBuilder.Export.Target {
      guard let span = spans.first(where: { rva >= $0.start && rva < $0.start + $0.size }) else {
        throw ImageBuilderError.invalid("RVA \(hexText(rva)) is in no section")
      }
      return .location(.init(section: span.name, offset: Int(rva - span.start)))
    }

    // 1. Shapes, registers, and the exports that fit at their build RVA.
    struct Plan {
      var routine: ExportRoutine
      var shape: ExportCodeShape
      var register: X64Emitter.Register
      var rva: UInt64?
      var atBuildRVA = false
    }
    let shapes = ExportCodeShape.allowed(build: build)
    var plans: [Plan] = []
    for routine in routines {
      let shape = shapes[Int(random.next() % UInt64(shapes.count))]
      let register = headRegisters[Int(random.next() % UInt64(headRegisters.count))]
      var plan = Plan(routine: routine, shape: shape, register: register)
      let length = try exportCode(plan.routine, shape: shape, register: register, at: 0, hopTarget: 0, symbols: .sizing)
        .count
      if let rva = facts.symbols[routine.name],
        spans.contains(where: { $0.isCode && rva >= $0.start && rva + UInt64(length) <= $0.start + $0.size }),
        overlaps(rva..<(rva + UInt64(length))) == nil, !othersInside(rva..<(rva + UInt64(length)))
      {
        busy.append(rva..<(rva + UInt64(length)))
        plan.rva = rva
        plan.atBuildRVA = true
      }
      plans.append(plan)
    }
    // 2. Internal routines and the other exports in .text; then the bytes and the export table.
    var records: [ExportCodeRecord] = []
    for var plan in plans {
      let symbols = facts.symbols
      var inner: UInt64 = 0
      if plan.shape != .direct {
        let bodyLength = try body(plan.routine, register: plan.register, at: 0, symbols: .sizing).count
        inner = try allocate(bodyLength)
        try put(try body(plan.routine, register: plan.register, at: inner, symbols: .resolved(symbols)), at: inner)
        if plan.shape == .twoHops {
          let stubLength = try callStub(at: 0, target: 0).count
          let stub = try allocate(stubLength)
          try put(try callStub(at: stub, target: inner), at: stub)
          inner = stub
        }
      }
      if plan.rva == nil {
        let length = try exportCode(
          plan.routine, shape: plan.shape, register: plan.register, at: 0, hopTarget: 0, symbols: .sizing
        )
        .count
        plan.rva = try allocate(length)
      }
      guard let rva = plan.rva else { continue }
      try put(
        try exportCode(
          plan.routine, shape: plan.shape, register: plan.register, at: rva, hopTarget: inner,
          symbols: .resolved(symbols)),
        at: rva)
      pe.exports.removeAll { $0.name == plan.routine.name }
      pe.exports.append(.init(name: plan.routine.name, target: try location(rva)))
      records.append(
        ExportCodeRecord(
          export: plan.routine.name, shape: plan.shape, register: "\(plan.register)", rva: rva,
          atBuildRVA: plan.atBuildRVA, variables: plan.routine.variables))
    }
    // Data exports name the build's own RVA (the template's NtBuildNumber export stays in .data
    // even where the build keeps the variable in .text, as Windows 7 and 8.1 do).
    for name in ExportRoutine.dataExports {
      guard let rva = facts.symbols[name] else { continue }
      pe.exports.removeAll { $0.name == name }
      pe.exports.append(.init(name: name, target: try location(rva)))
    }
    return records
  }

  /// The export's own code for `shape` at `rva` (`hopTarget`: the routine it hops into).
  private static func exportCode(
    _ routine: ExportRoutine, shape: ExportCodeShape, register: X64Emitter.Register, at rva: UInt64, hopTarget: UInt64,
    symbols: SymbolAddresses
  ) throws -> [UInt8] {
    var e = X64Emitter(origin: rva)
    switch shape {
    case .direct:
      return try body(routine, register: register, at: rva, symbols: symbols)
    case .callHop:
      e.reserveFrame()
      e.movImmediate32(.r8, 0)
      e.call(hopTarget)
      e.releaseFrame()
      e.ret()
    case .tailJump:
      e.zero(.r8)
      e.jump(hopTarget)
    case .thunk, .twoHops:
      e.jump(hopTarget)
    }
    e.pad(2)
    return try e.finished()
  }

  /// `sub rsp, 28h; call target; add rsp, 28h; ret`.
  private static func callStub(at rva: UInt64, target: UInt64) throws -> [UInt8] {
    var e = X64Emitter(origin: rva)
    e.reserveFrame()
    e.call(target)
    e.releaseFrame()
    e.ret()
    e.pad(2)
    return try e.finished()
  }

  /// The routine that references the variables: locks, heads, loads, the cookie byte, the dispatch
  /// on a compared value, then the counters updated with `lock xadd`.
  private static func body(
    _ routine: ExportRoutine, register: X64Emitter.Register, at rva: UInt64, symbols: SymbolAddresses
  ) throws -> [UInt8] {
    func address(_ name: String) throws -> UInt64 { try symbols.address(name) }
    var e = X64Emitter(origin: rva)
    e.prologue()
    if let d = routine.dispatch {
      if d.readsDeviceType {
        e.load32(.rax, base: .rcx, displacement: 0x48)
        e.move(.rbx, .rcx)
      } else {
        e.move(.rax, .rcx)
      }
    }
    for lock in routine.locks { e.lea(.rcx, try address(lock)) }
    for head in routine.heads { e.lea(register, try address(head)) }
    for head in routine.pushed {
      e.load(.rax, try address(head))
      e.store(try address(head), register)
    }
    for load in routine.loads { e.load(register, try address(load)) }
    for byte in routine.bytes { e.xorByte(.rax, try address(byte)) }
    if let d = routine.dispatch, let last = d.cases.last {
      let done = e.label()
      let join = e.label()
      let labels = d.cases.dropLast().map { _ in e.label() }
      for (c, label) in zip(d.cases, labels) {
        e.compare(.rax, c.value)
        e.jump(ifEqual: true, to: label)
      }
      e.compare(.rax, last.value)
      e.jump(ifEqual: false, to: done)
      e.lea(register, try address(last.head))
      e.jump(to: join)
      for (c, label) in zip(d.cases, labels) {
        e.bind(label)
        e.lea(register, try address(c.head))
        e.jump(to: join)
      }
      e.bind(join)
      e.move(.rcx, register)
      e.bind(done)
    }
    for counter in routine.counters {
      e.movImmediate32(.rax, 1)
      e.lockXadd32(try address(counter), .rax)
    }
    e.zero(.rax)
    e.epilogue()
    e.pad(2)
    return try e.finished()
  }
}

/// The variables' addresses a routine's code references: placeholders while only its length is
/// measured (every reference is a 32-bit displacement, so the length does not depend on them), the
/// build's RVAs when it is written.
enum SymbolAddresses {
  case sizing
  case resolved([String: UInt64])

  func address(_ name: String) throws -> UInt64 {
    switch self {
    case .sizing: return 0
    case .resolved(let symbols):
      guard let rva = symbols[name] else {
        throw ImageBuilderError.invalid("export code references \(name), which the build's symbols lack")
      }
      return rva
    }
  }
}
