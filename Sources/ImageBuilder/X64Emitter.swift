// A tiny x64 assembler for the synthetic kernel's export code: the few instruction forms the real
// registration routines are built from (rip-relative lea/mov, lock xadd, cmp/jcc dispatch, call/jmp
// rel32, prologue and epilogue). Encodings from the Intel SDM vol. 2 (REX prefix §2.2.1, ModR/M
// with mod 00 r/m 101 = RIP+disp32 in 64-bit mode §2.2.1.6). Every displacement is 32 bits, so a
// routine's length does not depend on where it is placed.

/// Encodes x64 instructions at a known origin (an RVA or a VA: displacements are differences).
public struct X64Emitter: Sendable {
  /// The general-purpose registers by their encoding number.
  public enum Register: UInt8, Sendable, CaseIterable {
    case rax = 0, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8, r9, r10, r11, r12, r13, r14, r15
    var low: UInt8 { rawValue & 7 }
    var extended: Bool { rawValue >= 8 }
  }

  /// A branch target inside the routine being emitted.
  public struct Label: Sendable, Hashable {
    let id: Int
  }

  /// Where the first byte will lie.
  public let origin: UInt64
  /// The bytes emitted so far.
  public private(set) var bytes: [UInt8] = []
  private var bound: [Int: Int] = [:]
  private var fixups: [(at: Int, label: Int)] = []
  private var nextLabel = 0

  public init(origin: UInt64) { self.origin = origin }

  /// The address of the next byte.
  public var here: UInt64 { origin &+ UInt64(bytes.count) }

  /// A fresh label (bind it with `bind`).
  public mutating func label() -> Label {
    nextLabel += 1
    return Label(id: nextLabel)
  }

  /// Binds `label` to the next byte.
  public mutating func bind(_ label: Label) { bound[label.id] = bytes.count }

  /// The finished routine; throws when a branch names a label never bound.
  public func finished() throws -> [UInt8] {
    var out = bytes
    for fixup in fixups {
      guard let target = bound[fixup.label] else { throw ImageBuilderError.invalid("x64 label \(fixup.label) unbound") }
      let rel = Int32(truncatingIfNeeded: target - (fixup.at + 4))
      for i in 0..<4 { out[fixup.at + i] = UInt8(truncatingIfNeeded: UInt32(bitPattern: rel) >> (8 * UInt32(i))) }
    }
    return out
  }

  private mutating func rel32(to target: UInt64) {
    // The displacement is taken from the end of the 4-byte field (the instruction's end).
    let end = here &+ 4
    let rel = Int32(truncatingIfNeeded: Int64(bitPattern: target &- end))
    append32(UInt32(bitPattern: rel))
  }

  private mutating func append32(_ value: UInt32) {
    for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt32(i)))) }
  }

  /// REX with W for 64-bit operands, R for an extended ModR/M.reg, B for an extended ModR/M.rm.
  private mutating func rex(w: Bool, reg: Register? = nil, rm: Register? = nil, always: Bool = false) {
    let value: UInt8 = 0x40 | (w ? 8 : 0) | (reg?.extended == true ? 4 : 0) | (rm?.extended == true ? 1 : 0)
    if value != 0x40 || always { bytes.append(value) }
  }

  /// `opcode reg, [rip+target]` (or `[rip+target], reg`): ModR/M mod 00, r/m 101.
  private mutating func ripOperand(_ opcode: [UInt8], reg: Register, wide: Bool, target: UInt64) {
    rex(w: wide, reg: reg)
    bytes += opcode
    bytes.append(0x05 | reg.low << 3)
    rel32(to: target)
  }

  /// `lea reg, [rip+target]`.
  public mutating func lea(_ reg: Register, _ target: UInt64) {
    ripOperand([0x8D], reg: reg, wide: true, target: target)
  }

  /// `mov reg, qword ptr [rip+target]`.
  public mutating func load(_ reg: Register, _ target: UInt64) {
    ripOperand([0x8B], reg: reg, wide: true, target: target)
  }

  /// `mov qword ptr [rip+target], reg`.
  public mutating func store(_ target: UInt64, _ reg: Register) {
    ripOperand([0x89], reg: reg, wide: true, target: target)
  }

  /// `mov reg32, dword ptr [rip+target]`.
  public mutating func load32(_ reg: Register, _ target: UInt64) {
    ripOperand([0x8B], reg: reg, wide: false, target: target)
  }

  /// `xor reg8, byte ptr [rip+target]` (al, cl, dl, bl only).
  public mutating func xorByte(_ reg: Register, _ target: UInt64) {
    ripOperand([0x32], reg: reg, wide: false, target: target)
  }

  /// `lock xadd dword ptr [rip+target], reg32`.
  public mutating func lockXadd32(_ target: UInt64, _ reg: Register) {
    bytes.append(0xF0)
    ripOperand([0x0F, 0xC1], reg: reg, wide: false, target: target)
  }

  /// `mov reg32, imm32`.
  public mutating func movImmediate32(_ reg: Register, _ value: UInt32) {
    rex(w: false, rm: reg)
    bytes.append(0xB8 + reg.low)
    append32(value)
  }

  /// `mov dst, src` (64-bit).
  public mutating func move(_ dst: Register, _ src: Register) {
    rex(w: true, reg: dst, rm: src)
    bytes += [0x8B, 0xC0 | dst.low << 3 | src.low]
  }

  /// `xor reg32, reg32`.
  public mutating func zero(_ reg: Register) {
    rex(w: false, reg: reg, rm: reg)
    bytes += [0x33, 0xC0 | reg.low << 3 | reg.low]
  }

  /// `mov eax, dword ptr [base+disp8]` (e.g. a DEVICE_OBJECT's DeviceType); `base` not rsp/r12.
  public mutating func load32(_ reg: Register, base: Register, displacement: UInt8) {
    rex(w: false, reg: reg, rm: base)
    bytes += [0x8B, 0x40 | reg.low << 3 | base.low, displacement]
  }

  /// `cmp reg32, imm8` (sign-extended).
  public mutating func compare(_ reg: Register, _ value: Int8) {
    rex(w: false, rm: reg)
    bytes += [0x83, 0xF8 | reg.low, UInt8(bitPattern: value)]
  }

  /// `je label` / `jne label` (rel32).
  public mutating func jump(ifEqual equal: Bool, to label: Label) {
    bytes += [0x0F, equal ? 0x84 : 0x85]
    fixups.append((bytes.count, label.id))
    append32(0)
  }

  /// `jmp label` (rel32).
  public mutating func jump(to label: Label) {
    bytes.append(0xE9)
    fixups.append((bytes.count, label.id))
    append32(0)
  }

  /// `jmp target` (rel32).
  public mutating func jump(_ target: UInt64) {
    bytes.append(0xE9)
    rel32(to: target)
  }

  /// `call target` (rel32).
  public mutating func call(_ target: UInt64) {
    bytes.append(0xE8)
    rel32(to: target)
  }

  /// `mov [rsp+8], rbx; push rdi; sub rsp, 20h` — a frame saving the two registers the body uses.
  public mutating func prologue() {
    bytes += [0x48, 0x89, 0x5C, 0x24, 0x08, 0x57, 0x48, 0x83, 0xEC, 0x20]
  }

  /// `mov rbx, [rsp+30h]; add rsp, 20h; pop rdi; ret` — undoes `prologue`.
  public mutating func epilogue() {
    bytes += [0x48, 0x8B, 0x5C, 0x24, 0x30, 0x48, 0x83, 0xC4, 0x20, 0x5F, 0xC3]
  }

  /// `sub rsp, 28h` (a leaf frame for a call).
  public mutating func reserveFrame() { bytes += [0x48, 0x83, 0xEC, 0x28] }

  /// `add rsp, 28h`.
  public mutating func releaseFrame() { bytes += [0x48, 0x83, 0xC4, 0x28] }

  /// `ret`.
  public mutating func ret() { bytes.append(0xC3) }

  /// `int3` padding.
  public mutating func pad(_ count: Int) { bytes += [UInt8](repeating: 0xCC, count: count) }
}
