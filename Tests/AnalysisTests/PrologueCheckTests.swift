// PrologueCheck on byte literals: return-at-once encodings (Intel SDM: C3 RET, C2 iw RET imm16,
// 33 C0 / 31 C0 XOR EAX,EAX, B8 id MOV EAX,imm32, 48 C7 C0 id MOV RAX,imm32, B0 ib MOV AL,imm8, 90 NOP)
// followed by the rest of an original prologue are patches; followed by padding they are stubs.

import Analysis
import Testing

@Suite struct PrologueCheckTests {
  /// The start of a normal MSVC x64 prologue: mov [rsp+8], rbx; mov [rsp+10h], rsi.
  static let body: [UInt8] = [0x48, 0x89, 0x5c, 0x24, 0x08, 0x48, 0x89, 0x74, 0x24, 0x10]

  @Test(arguments: [
    ([0xc3] as [UInt8], "ret"),
    ([0x33, 0xc0, 0xc3], "xor eax, eax; ret"),
    ([0x31, 0xc0, 0xc3], "xor eax, eax; ret"),
    ([0x48, 0x31, 0xc0, 0xc3], "xor rax, rax; ret"),
    ([0x48, 0x33, 0xc0, 0xc3], "xor rax, rax; ret"),
    ([0xb8, 0x01, 0x00, 0x00, 0x00, 0xc3], "mov eax, 1; ret"),
    ([0xb8, 0x00, 0x00, 0x00, 0x00, 0xc3], "mov eax, 0; ret"),
    ([0x48, 0xc7, 0xc0, 0x01, 0x00, 0x00, 0x00, 0xc3], "mov rax, 1; ret"),
    ([0xb0, 0x01, 0xc3], "mov al, 1; ret"),
    ([0x90, 0xc3], "nop; ret"),
    ([0xc2, 0x08, 0x00], "ret imm16"),
  ])
  func patchOverARealPrologueIsFound(_ patch: [UInt8], _ name: String) throws {
    // The patch overwrites the first bytes; the rest of the original instructions follow.
    let bytes = patch + Self.body.dropFirst(patch.count)
    let match = try #require(PrologueCheck.match(bytes + [0x57, 0x48]))
    #expect(match.pattern == name)
    #expect(match.bytes == patch)
  }

  @Test func rootkitTruthBytesAreFound() {
    // first_bytes of the two patched routines in ../shared/images/win10-19041-rootkit.truth.json.
    #expect(PrologueCheck.match([0xc3, 0x89, 0x5c, 0x24, 0x08, 0x48, 0x89, 0x74])?.bytes == [0xc3])
    #expect(PrologueCheck.match([0x33, 0xc0, 0xc3, 0x24, 0x08, 0x48, 0x89, 0x74])?.bytes == [0x33, 0xc0, 0xc3])
  }

  @Test(arguments: [
    [0xc3, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc] as [UInt8],  // ret; int3 padding
    [0xc3, 0x90, 0x90, 0x90, 0x90],  // ret; nop padding
    [0xc3, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00],  // the truth's PsPicoAltSystemCallDispatch stub
    [0x33, 0xc0, 0xc3, 0xcc, 0xcc, 0xcc, 0xcc],  // return FALSE stub
    [0xb8, 0x01, 0x00, 0x00, 0x00, 0xc3, 0xcc, 0xcc, 0xcc, 0xcc],  // return TRUE stub
    [0xc2, 0x08, 0x00, 0xcc, 0xcc, 0xcc, 0xcc],  // stdcall stub
    [0x90, 0xc3, 0xcc, 0x90, 0x00, 0xcc],  // mixed padding
  ])
  func stubFollowedByPaddingIsNotAPatch(_ bytes: [UInt8]) {
    #expect(PrologueCheck.match(bytes) == nil)
  }

  @Test func ordinaryPrologueIsNotAPatch() {
    #expect(PrologueCheck.match(Self.body) == nil)
    #expect(PrologueCheck.match([0x40, 0x53, 0x48, 0x83, 0xec, 0x20]) == nil)  // push rbx; sub rsp, 20h
    #expect(PrologueCheck.match([0x48, 0x83, 0xec, 0x28, 0x48, 0x8b, 0x05, 0x00]) == nil)  // sub rsp, 28h; mov rax, …
  }

  @Test func returnNotAtTheStartIsNotAPatch() {
    #expect(PrologueCheck.match([0x48, 0x89, 0xc3, 0x48, 0x89, 0x74]) == nil)  // mov rbx, rax (C3 as ModRM)
    #expect(PrologueCheck.match([0xcc, 0xc3, 0x48, 0x89]) == nil)
  }

  @Test func tooShortToTellIsNotAPatch() {
    #expect(PrologueCheck.match([]) == nil)
    #expect(PrologueCheck.match([0xc3]) == nil)  // nothing after the ret to tell stub from patch
    #expect(PrologueCheck.match([0x33, 0xc0]) == nil)  // no ret at all
    #expect(PrologueCheck.match([0xc2, 0x08]) == nil)  // truncated ret imm16
  }

  @Test func longestPatternWins() throws {
    // 48 31 C0 C3 must not be read as something shorter; B8 01 00 00 00 C3 is not "ret".
    let match = try #require(PrologueCheck.match([0x48, 0x31, 0xc0, 0xc3, 0x48, 0x89]))
    #expect(match.bytes.count == 4)
  }
}
