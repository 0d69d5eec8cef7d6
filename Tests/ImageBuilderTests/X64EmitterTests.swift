// The builder's x64 encodings, decoded by Capstone's cstool (an independent disassembler): each
// emitter call must decode, whole, to the instruction it names.

import ImageBuilder
import TestData
import Testing

struct X64EmitterTests {
  /// cstool's listing of `bytes` at `origin`: one "mnemonic operands" line per instruction, plus
  /// the number of bytes it decoded.
  static func disassemble(_ bytes: [UInt8], origin: UInt64) throws -> (lines: [String], decoded: Int) {
    let hex = bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    let result = try TestData.run(try TestData.which("cstool"), ["x64", hex, String(origin, radix: 16)])
    guard result.status == 0 else { throw TestDataError.tool("cstool failed: \(result.stderr)") }
    var lines: [String] = []
    var decoded = 0
    for line in result.stdout.split(separator: "\n") {
      let parts = line.split(separator: "\t", maxSplits: 1).map(String.init)
      let tokens = parts[0].split(separator: " ").dropFirst()  // the address
      let isByte = { (t: Substring) in t.count == 2 && t.allSatisfy(\.isHexDigit) }
      decoded += tokens.filter(isByte).count
      let mnemonic = tokens.filter { !isByte($0) }.joined(separator: " ")
      lines.append(parts.count > 1 ? "\(mnemonic) \(parts[1])" : mnemonic)
    }
    return (lines, decoded)
  }

  /// Emitter call → what Capstone must print (origin 0x1000, memory operand target 0x2000).
  static var cases: [(String, (inout X64Emitter) -> Void, [String])] {
    [
      ("lea rcx", { $0.lea(.rcx, 0x2000) }, ["lea rcx, [rip + 0xff9]"]),
      ("lea r8", { $0.lea(.r8, 0x2000) }, ["lea r8, [rip + 0xff9]"]),
      ("lea rdi", { $0.lea(.rdi, 0x2000) }, ["lea rdi, [rip + 0xff9]"]),
      ("mov rbx, [rip]", { $0.load(.rbx, 0x2000) }, ["mov rbx, qword ptr [rip + 0xff9]"]),
      ("mov r8, [rip]", { $0.load(.r8, 0x2000) }, ["mov r8, qword ptr [rip + 0xff9]"]),
      ("mov [rip], rbx", { $0.store(0x2000, .rbx) }, ["mov qword ptr [rip + 0xff9], rbx"]),
      ("mov eax, [rip]", { $0.load32(.rax, 0x2000) }, ["mov eax, dword ptr [rip + 0xffa]"]),
      ("xor al", { $0.xorByte(.rax, 0x2000) }, ["xor al, byte ptr [rip + 0xffa]"]),
      ("lock xadd", { $0.lockXadd32(0x2000, .rax) }, ["lock xadd dword ptr [rip + 0xff8], eax"]),
      ("mov r8d, imm", { $0.movImmediate32(.r8, 0) }, ["mov r8d, 0"]),
      ("mov eax, imm", { $0.movImmediate32(.rax, 1) }, ["mov eax, 1"]),
      ("mov rbx, rcx", { $0.move(.rbx, .rcx) }, ["mov rbx, rcx"]),
      ("mov rcx, r8", { $0.move(.rcx, .r8) }, ["mov rcx, r8"]),
      ("xor r8d", { $0.zero(.r8) }, ["xor r8d, r8d"]),
      ("mov eax, [rcx+48h]", { $0.load32(.rax, base: .rcx, displacement: 0x48) }, ["mov eax, dword ptr [rcx + 0x48]"]),
      ("cmp eax", { $0.compare(.rax, 0x14) }, ["cmp eax, 0x14"]),
      ("cmp ecx", { $0.compare(.rcx, 2) }, ["cmp ecx, 2"]),
      ("jmp", { $0.jump(0x2000) }, ["jmp 0x2000"]),
      ("call", { $0.call(0x2000) }, ["call 0x2000"]),
      (
        "labels",
        { e in
          let l = e.label()
          e.jump(ifEqual: true, to: l)
          e.jump(ifEqual: false, to: l)
          e.jump(to: l)
          e.bind(l)
          e.ret()
        }, ["je 0x1011", "jne 0x1011", "jmp 0x1011", "ret"]
      ),
      ("prologue", { $0.prologue() }, ["mov qword ptr [rsp + 8], rbx", "push rdi", "sub rsp, 0x20"]),
      ("epilogue", { $0.epilogue() }, ["mov rbx, qword ptr [rsp + 0x30]", "add rsp, 0x20", "pop rdi", "ret"]),
      (
        "frame",
        { e in
          e.reserveFrame(); e.releaseFrame(); e.pad(1)
        }, ["sub rsp, 0x28", "add rsp, 0x28", "int3"]
      ),
    ]
  }

  @Test func capstoneDecodesEveryEncoding() throws {
    for (name, emit, expected) in Self.cases {
      var e = X64Emitter(origin: 0x1000)
      emit(&e)
      let bytes = try e.finished()
      let (lines, decoded) = try Self.disassemble(bytes, origin: 0x1000)
      #expect(lines == expected, "\(name)")
      #expect(decoded == bytes.count, "\(name): cstool decoded \(decoded) of \(bytes.count) bytes")
    }
  }

  @Test func unboundLabelIsAnError() {
    var e = X64Emitter(origin: 0)
    let l = e.label()
    e.jump(to: l)
    #expect(throws: ImageBuilderError.self) { _ = try e.finished() }
  }
}
