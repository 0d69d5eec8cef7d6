// One step of x64 stack unwinding from a function's UNWIND_INFO (Microsoft, "x64 exception handling",
// "Unwind procedure"): undo the prolog operations that executed (all of them in the body, those with
// CodeOffset ≤ the RIP offset inside the prolog), following chained entries, then pop the return
// address — or take RIP and RSP from a machine frame. Epilogs are not recognised (that needs the code
// bytes); a RIP inside one unwinds as if in the body.

/// The registers an unwind step knows: RIP, RSP and the nonvolatile integers restored so far.
public struct UnwindContext: Sendable, Equatable {
  public var rip: UInt64
  public var rsp: UInt64
  /// Integer registers by their x64 number (0 RAX … 15 R15) that are known.
  public var registers: [UInt8: UInt64]

  public init(rip: UInt64, rsp: UInt64, registers: [UInt8: UInt64] = [:]) {
    self.rip = rip
    self.rsp = rsp
    self.registers = registers
  }
}

/// Why an unwind step failed.
public enum UnwindError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The stack at `address` (what: "return address", "saved RBX" …) could not be read.
  case unreadable(what: String, address: UInt64)
  /// The frame is established through a register whose value is not known.
  case unknownFrameRegister(register: UInt8, rip: UInt64)
  /// Chained entries nest deeper than the bound, or loop.
  case chainTooDeep(rva: UInt32)
  /// The chained UNWIND_INFO could not be read.
  case chained(PEError)

  public var description: String {
    switch self {
    case .unreadable(let what, let address): return "unwind: \(what) at 0x\(String(address, radix: 16)) is unreadable"
    case .unknownFrameRegister(let register, let rip):
      return "unwind: frame register \(register) of the function at RIP 0x\(String(rip, radix: 16)) is not known"
    case .chainTooDeep(let rva): return "unwind: chained unwind info at RVA 0x\(String(rva, radix: 16)) nests too deep"
    case .chained(let error): return "unwind: chained unwind info: \(error)"
    }
  }
}

extension UnwindInfo {
  /// Chained entries followed at most.
  public static let maximumChain = 32

  /// The caller's context: `rip` lies `offset` bytes into the function this info describes; `read`
  /// gives the 8 bytes at a guest address (nil: unreadable); `chain` the UNWIND_INFO at an RVA (for
  /// CHAININFO entries).
  public func virtualUnwind(
    _ context: UnwindContext, offset: UInt32, read: (UInt64) -> UInt64?,
    chain: (UInt32) throws(PEError) -> UnwindInfo = { rva throws(PEError) in
      throw .unsupported(source: "unwind", offset: UInt64(rva), structure: "UNWIND_INFO", detail: "no chain reader")
    }
  ) throws(UnwindError) -> UnwindContext {
    var state = context
    var info = self
    var inProlog = offset < UInt32(sizeOfProlog)
    var depth = 0
    var machineFrame = false
    while true {
      try info.undo(&state, offset: inProlog ? offset : nil, read: read, machineFrame: &machineFrame)
      guard let parent = info.chained else { break }
      depth += 1
      guard depth <= Self.maximumChain else { throw .chainTooDeep(rva: parent.unwindInfoAddress) }
      do { info = try chain(parent.unwindInfoAddress) } catch { throw .chained(error) }
      inProlog = false  // the primary's prolog ran completely before the chained part
    }
    if machineFrame { return state }
    guard let ret = read(state.rsp) else { throw .unreadable(what: "return address", address: state.rsp) }
    state.rip = ret
    state.rsp &+= 8
    return state
  }

  /// Undoes this info's operations; `offset` non-nil: only those that executed before it.
  func undo(_ state: inout UnwindContext, offset: UInt32?, read: (UInt64) -> UInt64?, machineFrame: inout Bool)
    throws(UnwindError)
  {
    let executed = codes.filter { code in
      if case .epilog = code.operation { return false }
      return offset.map { UInt32(code.codeOffset) <= $0 } ?? true
    }
    // The frame base for saves: RSP after the whole prolog, or the frame register less its offset.
    var frame = state.rsp
    if frameRegister != 0, executed.contains(where: { $0.operation == .setFramePointer }) {
      guard let value = state.registers[frameRegister] else {
        throw .unknownFrameRegister(register: frameRegister, rip: state.rip)
      }
      frame = value &- UInt64(frameOffset)
    }
    for code in executed {
      switch code.operation {
      case .pushNonvolatile(let register):
        guard let value = read(state.rsp) else {
          throw .unreadable(what: "pushed register \(register)", address: state.rsp)
        }
        state.registers[register] = value
        state.rsp &+= 8
      case .allocateLarge(let size), .allocateSmall(let size): state.rsp &+= UInt64(size)
      case .setFramePointer: state.rsp = frame
      case .saveNonvolatile(let register, let at, _):
        let address = frame &+ UInt64(at)
        guard let value = read(address) else { throw .unreadable(what: "saved register \(register)", address: address) }
        state.registers[register] = value
      case .saveXMM128, .epilog: break  // XMM registers are not tracked
      case .pushMachineFrame(let errorCode):
        let base = state.rsp &+ (errorCode ? 8 : 0)
        guard let rip = read(base), let rsp = read(base &+ 24) else {
          throw .unreadable(what: "machine frame", address: base)
        }
        state.rip = rip
        state.rsp = rsp
        machineFrame = true
      }
    }
  }
}
