// Walks code from an entry point: decodes instruction by instruction, follows conditional branches
// inside a function and direct calls / far jumps into others, and records every memory operand
// whose address is known statically. Bounded (CodeWalkLimits) and cycle-safe; an unreadable page or
// invalid bytes end that path with a reason. Reads code page by page through a caller's closure.

/// A bounded code walker over one address space (reuses decoded pages and instructions across walks).
public final class CodeWalker {
  public let limits: CodeWalkLimits
  private let decoder: Disassembler
  private let readPage: (UInt64) -> [UInt8]?
  private let mayEnter: (UInt64) -> Bool
  private var pages: [UInt64: [UInt8]] = [:]
  private var unreadable: Set<UInt64> = []
  private var decoded: [UInt64: Instruction] = [:]

  private static let pageSize: UInt64 = 0x1000

  /// - Parameters:
  ///   - readPage: the 4 KiB page at a page-aligned VA, nil when unreadable (paged out, unmapped).
  ///   - mayEnter: whether a call or far-jump target may be walked into (e.g. inside the kernel's code).
  public init(
    architecture: Architecture, limits: CodeWalkLimits = .standard, readPage: @escaping (UInt64) -> [UInt8]?,
    mayEnter: @escaping (UInt64) -> Bool
  ) throws(DisassemblyError) {
    self.decoder = try Disassembler(architecture)
    self.limits = limits
    self.readPage = readPage
    self.mayEnter = mayEnter
    // A symbol-less run decodes a few hundred to a few thousand instructions on some dozens of
    // pages; growing the caches one doubling at a time was a fifth of the walks' time (varied image).
    decoded.reserveCapacity(2048)
    pages.reserveCapacity(64)
  }

  /// The instruction at `va`, or why there is none.
  public func instruction(at va: UInt64) -> Result<Instruction, CodeStop> {
    if let known = decoded[va] { return .success(known) }
    guard let bytes = bytes(at: va) else { return .failure(CodeStop(address: va, reason: "code page unreadable")) }
    guard let insn = decoder.decode(bytes, at: va) else {
      return .failure(CodeStop(address: va, reason: "invalid instruction bytes \(Self.hex(bytes.prefix(8)))"))
    }
    decoded[va] = insn
    return .success(insn)
  }

  private struct FunctionTask {
    var entry: UInt64
    var hops: [CodeHop]
    var condition: Int64?
    var callDepth: Int
  }

  /// Walks from `entry`.
  public func walk(from entry: UInt64) -> CodeWalk {
    var tasks = [FunctionTask(entry: entry, hops: [], condition: nil, callDepth: 0)]
    var entered: Set<UInt64> = []
    var references: [CodeReference] = []
    var calls: [CodeHop] = []
    var stops: [CodeStop] = []
    var total = 0
    var next = 0
    walking: while next < tasks.count {
      let task = tasks[next]
      next += 1
      guard entered.insert(task.entry).inserted else { continue }
      guard entered.count <= limits.functions else {
        stops.append(CodeStop(address: task.entry, reason: "function budget (\(limits.functions)) reached"))
        break
      }
      var blocks: [(start: UInt64, condition: Int64?)] = [(task.entry, task.condition)]
      var blockStarts: Set<UInt64> = []
      var inFunction = 0
      while let block = blocks.popLast() {
        guard blockStarts.insert(block.start).inserted else { continue }
        var pc = block.start
        var condition = block.condition
        var lastCompare: Int64?
        var zeroInstructions = 0
        decoding: while true {
          guard total < limits.totalInstructions else {
            stops.append(CodeStop(address: pc, reason: "instruction budget (\(limits.totalInstructions)) reached"))
            break walking
          }
          guard inFunction < limits.instructionsPerFunction else {
            stops.append(
              CodeStop(address: pc, reason: "function longer than \(limits.instructionsPerFunction) instructions"))
            break
          }
          if pc != block.start, blockStarts.contains(pc) { break }
          guard pages.count * Int(Self.pageSize) <= limits.bytesRead else {
            stops.append(CodeStop(address: pc, reason: "code read budget (\(limits.bytesRead) bytes) reached"))
            break walking
          }
          let insn: Instruction
          switch instruction(at: pc) {
          case .success(let i): insn = i
          case .failure(let stop):
            stops.append(stop)
            break decoding
          }
          total += 1
          inFunction += 1
          // `00 00` decodes as `add [rax], al`: a run of them is zero-filled memory, not code.
          if insn.bytes.allSatisfy({ $0 == 0 }) {
            zeroInstructions += 1
            if zeroInstructions >= 2 {
              stops.append(CodeStop(address: pc, reason: "zero-filled bytes, not code"))
              break
            }
          } else {
            zeroInstructions = 0
          }
          for memory in insn.memoryTargets {
            references.append(
              CodeReference(
                instruction: insn, memory: memory, function: task.entry, hops: task.hops, condition: condition,
                order: references.count))
          }
          let compared = insn.comparedImmediate
          switch insn.flow {
          case .sequential:
            pc = insn.next
          case .call(let target):
            guard let target else {
              pc = insn.next
              break
            }
            let hop = CodeHop(instruction: insn.address, kind: .call, target: target)
            calls.append(hop)
            if task.callDepth < limits.callDepth, task.hops.count < limits.hops, mayEnter(target) {
              tasks.append(
                FunctionTask(
                  entry: target, hops: task.hops + [hop], condition: condition, callDepth: task.callDepth + 1))
            }
            pc = insn.next
          case .jump(let target):
            guard let target else {
              stops.append(CodeStop(address: insn.address, reason: "indirect jump (\(insn.text))"))
              break decoding
            }
            let distance = target > insn.address ? target - insn.address : insn.address - target
            if insn.address == task.entry || distance > limits.farJump {
              let hop = CodeHop(instruction: insn.address, kind: .jmp, target: target)
              if task.hops.count < limits.hops, mayEnter(target) {
                tasks.append(
                  FunctionTask(entry: target, hops: task.hops + [hop], condition: condition, callDepth: task.callDepth))
              } else {
                stops.append(CodeStop(address: insn.address, reason: "jump target not entered (\(hop))"))
              }
            } else {
              blocks.append((target, condition))
            }
            break decoding
          case .conditionalJump(let target, let kind):
            var taken = condition
            var fallThrough = condition
            if let value = lastCompare {
              if kind == .equal { taken = value } else if kind == .notEqual { fallThrough = value }
            }
            blocks.append((target, taken))
            condition = fallThrough
            pc = insn.next
          case .ret, .trap:
            break decoding
          }
          lastCompare = compared
        }
      }
    }
    return CodeWalk(
      entry: entry, references: references, calls: calls, stops: stops, instructionCount: total,
      functionCount: entered.count)
  }

  /// Up to 16 bytes at `va` (an instruction is at most 15), crossing into the next page when readable.
  private func bytes(at va: UInt64) -> [UInt8]? {
    let base = va & ~(Self.pageSize - 1)
    guard let page = page(base) else { return nil }
    let offset = Int(va - base)
    let end = min(page.count, offset + 16)
    var out = Array(page[offset..<end])
    if out.count < 16, let (nextBase, overflow) = Optional(base.addingReportingOverflow(Self.pageSize)), !overflow,
      let following = self.page(nextBase)
    {
      out += following.prefix(16 - out.count)
    }
    return out
  }

  private func page(_ base: UInt64) -> [UInt8]? {
    if let known = pages[base] { return known }
    if unreadable.contains(base) { return nil }
    guard let bytes = readPage(base), bytes.count == Int(Self.pageSize) else {
      unreadable.insert(base)
      return nil
    }
    pages[base] = bytes
    return bytes
  }

  private static func hex(_ bytes: ArraySlice<UInt8>) -> String {
    bytes.map { b in (b < 16 ? "0" : "") + String(b, radix: 16) }.joined(separator: " ")
  }
}
