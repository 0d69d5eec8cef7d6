// Capstone 4 behind a small Swift API: decode one x64 or x86 instruction from bytes at a VA.
// The handle and its instruction buffer are owned here and freed on deinit; one decoder per thread.

import CCapstone

/// An x64 or x86 instruction decoder (Capstone with details on).
public final class Disassembler {
  public let architecture: Architecture
  private var handle: csh = 0
  private let buffer: UnsafeMutablePointer<cs_insn>

  /// Opens a decoder for `architecture`.
  public init(_ architecture: Architecture) throws(DisassemblyError) {
    self.architecture = architecture
    let mode = architecture == .x64 ? CS_MODE_64 : CS_MODE_32
    var h: csh = 0
    let err = cs_open(CS_ARCH_X86, mode, &h)
    guard err == CS_ERR_OK else {
      throw .capstoneUnavailable(architecture: architecture.rawValue, code: err.rawValue)
    }
    _ = cs_option(h, CS_OPT_DETAIL, Int(CS_OPT_ON.rawValue))
    guard let insn = cs_malloc(h) else {
      cs_close(&h)
      throw .capstoneUnavailable(architecture: architecture.rawValue, code: CS_ERR_MEM.rawValue)
    }
    handle = h
    buffer = insn
  }

  deinit {
    cs_free(buffer, 1)
    cs_close(&handle)
  }

  /// Decodes the instruction at the start of `bytes`, which sit at `address`; nil when the bytes
  /// do not begin with a valid instruction (or are cut short).
  public func decode(_ bytes: [UInt8], at address: UInt64) -> Instruction? {
    guard !bytes.isEmpty else { return nil }
    let decoded: Bool = bytes.withUnsafeBufferPointer { raw in
      guard let base = raw.baseAddress else { return false }
      var code: UnsafePointer<UInt8>? = base
      var size = raw.count
      var at = address
      return cs_disasm_iter(handle, &code, &size, &at, buffer)
    }
    guard decoded else { return nil }
    return convert(buffer, bytes: bytes)
  }

  private func convert(_ insn: UnsafeMutablePointer<cs_insn>, bytes: [UInt8]) -> Instruction? {
    let length = Int(insn.pointee.size)
    guard length > 0, length <= bytes.count else { return nil }
    let address = insn.pointee.address
    let next = address &+ UInt64(length)  // code never wraps the address space; &+ keeps a crafted VA from trapping
    let mnemonic = Self.string(insn.pointee.mnemonic)
    let operands = Self.string(insn.pointee.op_str)
    let id = x86_insn(rawValue: insn.pointee.id)
    let isLEA = id == X86_INS_LEA
    var targets: [MemoryTarget] = []
    var immediate: Int64?
    var firstImmediate: Int64?
    let count = Int(callscope_x86_op_count(insn))
    for i in 0..<min(count, 8) {
      guard let op = callscope_x86_op(insn, Int32(i)) else { continue }
      switch callscope_op_type(op) {
      case X86_OP_MEM:
        let base = callscope_op_mem_base(op)
        let index = callscope_op_mem_index(op)
        let segment = callscope_op_mem_segment(op)
        let disp = callscope_op_mem_disp(op)
        var target: UInt64?
        if base == X86_REG_RIP && index == X86_REG_INVALID {
          target = next &+ UInt64(bitPattern: disp)  // rip-relative: next instruction + disp32, modulo 2^64
        } else if architecture == .x86 && base == X86_REG_INVALID && index == X86_REG_INVALID
          && segment == X86_REG_INVALID
        {
          target = UInt64(UInt32(truncatingIfNeeded: disp))
        }
        if let target {
          let access = callscope_op_access(op)
          targets.append(
            MemoryTarget(
              address: target, size: Int(callscope_op_size(op)), addressOnly: isLEA,
              reads: !isLEA && access & UInt8(CS_AC_READ.rawValue) != 0,
              writes: !isLEA && access & UInt8(CS_AC_WRITE.rawValue) != 0))
        }
      case X86_OP_IMM:
        if firstImmediate == nil { firstImmediate = callscope_op_imm(op) }
      default:
        break
      }
    }
    if id == X86_INS_CMP, count == 2, let op = callscope_x86_op(insn, 1), callscope_op_type(op) == X86_OP_IMM,
      let first = callscope_x86_op(insn, 0), callscope_op_type(first) == X86_OP_REG
    {
      immediate = callscope_op_imm(op)
    }
    let flow = Self.flow(insn, id: id, immediate: firstImmediate, architecture: architecture)
    let locked = callscope_x86_prefix0(insn) == 0xf0
    return Instruction(
      address: address, length: length, mnemonic: mnemonic, operands: operands, flow: flow,
      memoryTargets: targets, comparedImmediate: immediate, isLocked: locked, bytes: Array(bytes.prefix(length)))
  }

  private static func flow(
    _ insn: UnsafeMutablePointer<cs_insn>, id: x86_insn, immediate: Int64?, architecture: Architecture
  ) -> ControlFlow {
    let target = immediate.map { value -> UInt64 in
      let raw = UInt64(bitPattern: value)
      return architecture == .x86 ? raw & 0xffff_ffff : raw
    }
    if callscope_in_group(insn, UInt8(CS_GRP_RET.rawValue)) != 0 { return .ret }
    if callscope_in_group(insn, UInt8(CS_GRP_CALL.rawValue)) != 0 { return .call(target: target) }
    if id == X86_INS_JMP || id == X86_INS_LJMP { return .jump(target: target) }
    if callscope_in_group(insn, UInt8(CS_GRP_JUMP.rawValue)) != 0 {
      guard let target else { return .jump(target: nil) }
      switch id {
      case X86_INS_JE: return .conditionalJump(target: target, condition: .equal)
      case X86_INS_JNE: return .conditionalJump(target: target, condition: .notEqual)
      default: return .conditionalJump(target: target, condition: .other)
      }
    }
    switch id {
    case X86_INS_INT3, X86_INS_UD2, X86_INS_HLT, X86_INS_INT, X86_INS_IRET, X86_INS_IRETD, X86_INS_IRETQ:
      return .trap
    default:
      return .sequential
    }
  }

  /// A C string stored in a fixed-size char tuple.
  private static func string<T>(_ tuple: T) -> String {
    withUnsafeBytes(of: tuple) { raw in
      let bytes = raw.prefix { $0 != 0 }
      return String(decoding: bytes, as: UTF8.self)
    }
  }
}
