// One decoded machine instruction, reduced to what the locators need: its length and text, where
// control goes next, the absolute addresses its memory operands name, and a compared immediate.

/// The instruction set a decoder reads.
public enum Architecture: String, Sendable, CaseIterable {
  case x64, x86
}

/// A memory operand whose address is known without running the code: rip-relative on x64, an
/// absolute displacement (no base, no index) on x86.
public struct MemoryTarget: Sendable, Hashable {
  /// The absolute address the operand names.
  public let address: UInt64
  /// Operand size in bytes (for `lea`, the size of the address computed).
  public let size: Int
  /// `lea`: the address itself is taken, memory is not accessed.
  public let addressOnly: Bool
  /// The instruction reads the operand's memory.
  public let reads: Bool
  /// The instruction writes the operand's memory.
  public let writes: Bool

  public init(address: UInt64, size: Int, addressOnly: Bool, reads: Bool, writes: Bool) {
    self.address = address
    self.size = size
    self.addressOnly = addressOnly
    self.reads = reads
    self.writes = writes
  }
}

/// Where control goes after an instruction.
public enum ControlFlow: Sendable, Hashable {
  /// On to the next instruction.
  case sequential
  /// A call; the target when it is an immediate.
  case call(target: UInt64?)
  /// An unconditional jump; the target when it is an immediate.
  case jump(target: UInt64?)
  /// A conditional jump to an immediate target; `equal` for je/jz, `notEqual` for jne/jnz.
  case conditionalJump(target: UInt64, condition: JumpCondition)
  /// A return.
  case ret
  /// Execution cannot go on here (int3, ud2, hlt, an interrupt that does not return).
  case trap
}

/// The condition of a conditional jump, as far as dispatch tracking needs it.
public enum JumpCondition: Sendable, Hashable {
  case equal, notEqual, other
}

/// A decoded instruction.
public struct Instruction: Sendable, Hashable {
  /// Virtual address of the first byte.
  public let address: UInt64
  /// Length in bytes (1…15).
  public let length: Int
  /// Mnemonic as Capstone prints it (`lea`, `lock xadd` keeps the prefix in `isLocked`).
  public let mnemonic: String
  /// Operands as Capstone prints them (`rcx, [rip + 0x24844a]`).
  public let operands: String
  public let flow: ControlFlow
  /// Memory operands with an address known statically.
  public let memoryTargets: [MemoryTarget]
  /// `cmp reg, imm`: the immediate (sign-extended), for dispatch tracking.
  public let comparedImmediate: Int64?
  /// Carries a LOCK prefix.
  public let isLocked: Bool
  /// The raw bytes.
  public let bytes: [UInt8]

  public init(
    address: UInt64, length: Int, mnemonic: String, operands: String, flow: ControlFlow,
    memoryTargets: [MemoryTarget], comparedImmediate: Int64?, isLocked: Bool, bytes: [UInt8]
  ) {
    self.address = address
    self.length = length
    self.mnemonic = mnemonic
    self.operands = operands
    self.flow = flow
    self.memoryTargets = memoryTargets
    self.comparedImmediate = comparedImmediate
    self.isLocked = isLocked
    self.bytes = bytes
  }

  /// `mnemonic operands`, as a disassembler listing shows it (`lock xadd dword ptr [rip + 0x10], eax`).
  public var text: String {
    let m = isLocked && !mnemonic.hasPrefix("lock") ? "lock " + mnemonic : mnemonic
    return operands.isEmpty ? m : "\(m) \(operands)"
  }

  /// The address of the next instruction (wraps only past the top of the address space, never in code).
  public var next: UInt64 { address &+ UInt64(length) }
}
