// What a bounded walk of code from one entry point found: every statically known memory reference,
// each with the chain of calls/jumps that led to it and the dispatch value on its path.

/// One control transfer on the way from the entry point to a reference.
public struct CodeHop: Sendable, Hashable, CustomStringConvertible {
  public enum Kind: String, Sendable, Hashable { case call, jmp }
  /// The call or jmp instruction's address.
  public let instruction: UInt64
  public let kind: Kind
  /// Where it goes: the entry of the next function on the chain.
  public let target: UInt64

  public init(instruction: UInt64, kind: Kind, target: UInt64) {
    self.instruction = instruction
    self.kind = kind
    self.target = target
  }

  public var description: String {
    "\(kind.rawValue) at 0x\(String(instruction, radix: 16)) → 0x\(String(target, radix: 16))"
  }
}

/// A memory reference found in the code.
public struct CodeReference: Sendable, Hashable {
  /// The instruction holding it.
  public let instruction: Instruction
  /// The operand.
  public let memory: MemoryTarget
  /// The entry of the function the instruction belongs to (the last hop's target, or the walk's entry).
  public let function: UInt64
  /// Calls and jumps from the walk's entry to `function`.
  public let hops: [CodeHop]
  /// The immediate a `cmp reg, imm` compared on the path to this instruction, when the path was
  /// taken because of it (the `je` target, or the fall-through of a `jne`).
  public let condition: Int64?
  /// Position in the walk (walk order is deterministic).
  public let order: Int

  public init(
    instruction: Instruction, memory: MemoryTarget, function: UInt64, hops: [CodeHop], condition: Int64?, order: Int
  ) {
    self.instruction = instruction
    self.memory = memory
    self.function = function
    self.hops = hops
    self.condition = condition
    self.order = order
  }

  /// The referenced address.
  public var target: UInt64 { memory.address }
}

/// Why part of a walk ended early.
public struct CodeStop: Error, Sendable, Hashable, CustomStringConvertible {
  public let address: UInt64
  public let reason: String
  public init(address: UInt64, reason: String) {
    self.address = address
    self.reason = reason
  }
  public var description: String { "0x\(String(address, radix: 16)): \(reason)" }
}

/// The result of walking code from one entry point.
public struct CodeWalk: Sendable {
  public let entry: UInt64
  /// References in walk order.
  public let references: [CodeReference]
  /// Call targets met (entered or not), in walk order.
  public let calls: [CodeHop]
  /// Paths that ended before a return (unreadable page, invalid bytes, a budget reached).
  public let stops: [CodeStop]
  /// Instructions decoded.
  public let instructionCount: Int
  /// Distinct functions entered.
  public let functionCount: Int

  public init(
    entry: UInt64, references: [CodeReference], calls: [CodeHop], stops: [CodeStop], instructionCount: Int,
    functionCount: Int
  ) {
    self.entry = entry
    self.references = references
    self.calls = calls
    self.stops = stops
    self.instructionCount = instructionCount
    self.functionCount = functionCount
  }
}
