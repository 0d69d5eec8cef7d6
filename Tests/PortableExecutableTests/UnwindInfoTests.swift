// UNWIND_INFO parsing against llvm-readobj --unwind on a DLL built here, and virtualUnwind on stacks
// laid out by hand from the assembly's own prolog (UnwindFixture.swift).

import Foundation
import PortableExecutable
import TestData
import Testing

/// An unwind code as llvm-readobj --unwind prints it (`0x0D: ALLOC_LARGE size=8200`).
func readobjText(_ code: UnwindCode, frameRegister: UInt8, frameOffset: UInt32) -> String {
  let names = [
    "RAX", "RCX", "RDX", "RBX", "RSP", "RBP", "RSI", "RDI", "R8", "R9", "R10", "R11", "R12", "R13", "R14", "R15",
  ]
  func reg(_ r: UInt8) -> String { Int(r) < names.count ? names[Int(r)] : "?" }
  let text: String
  switch code.operation {
  case .pushNonvolatile(let r): text = "PUSH_NONVOL reg=\(reg(r))"
  case .allocateLarge(let size): text = "ALLOC_LARGE size=\(size)"
  case .allocateSmall(let size): text = "ALLOC_SMALL size=\(size)"
  case .setFramePointer:
    text = "SET_FPREG reg=\(reg(frameRegister)), offset=0x\(String(frameOffset, radix: 16, uppercase: true))"
  case .saveNonvolatile(let r, let offset, let far):
    text = "SAVE_NONVOL\(far ? "_FAR" : "") reg=\(reg(r)), offset=0x\(String(offset, radix: 16, uppercase: true))"
  case .saveXMM128(let r, let offset, let far):
    text = "SAVE_XMM128\(far ? "_FAR" : "") reg=XMM\(r), offset=0x\(String(offset, radix: 16, uppercase: true))"
  case .pushMachineFrame(let errorCode): text = "PUSH_MACHFRAME errcode=\(errorCode ? "yes" : "no")"
  case .epilog(let offset, let info): text = "EPILOG \(offset) \(info)"
  }
  let offset = String(code.codeOffset, radix: 16, uppercase: true)
  return "0x\(offset.count < 2 ? "0" + offset : offset): \(text)"
}

@Suite struct UnwindInfoTests {
  @Test func codesMatchReadobj() throws {
    let path = try UnwindDLL.get()
    let image = try PEImage.open(path: path)
    let table = try image.exceptionDirectory()
    let report = try readobj(path, ["--unwind"])
    let entries = try #require(report.children.first { $0.name == "UnwindInformation" }).children.filter {
      $0.name == "RuntimeFunction"
    }
    #expect(entries.count == table.count)
    #expect(table.count >= 6)
    var seen: Set<String> = []
    for (function, entry) in zip(table, entries) {
      #expect(entry.number("StartAddress").map { $0 - image.optionalHeader.imageBase } == UInt64(function.beginAddress))
      let info = try image.unwindInfo(at: function.unwindInfoAddress)
      let node = try #require(entry.children.first { $0.name == "UnwindInfo" })
      #expect(node.number("Version") == UInt64(info.version))
      #expect(node.number("PrologSize") == UInt64(info.sizeOfProlog))
      #expect(node.number("UnwindCodeCount") == UInt64(info.countOfCodes))
      let flags = try #require(node.children.first { $0.name == "Flags" })
      #expect(ReadobjNode.number(flags.header) == UInt64(info.flags))
      if info.frameRegister == 0 {
        #expect(node["FrameRegister"] == "-")
      } else {
        #expect(node["FrameRegister"]?.hasSuffix("(0x\(String(info.frameRegister, radix: 16)))") == true)
        #expect(node.number("FrameOffset") == UInt64(info.frameOffset / 16))
      }
      let expected = try #require(node.children.first { $0.name == "UnwindCodes" }).fields.map {
        "\($0.key): \($0.value)"
      }
      let ours = info.codes.map { readobjText($0, frameRegister: info.frameRegister, frameOffset: info.frameOffset) }
      #expect(ours == expected)
      for code in ours { seen.insert(String(code.split(separator: " ")[1])) }
    }
    // Every operation the fixture was written to produce was compared at least once.
    #expect(
      seen.isSuperset(of: [
        "PUSH_NONVOL", "ALLOC_LARGE", "ALLOC_SMALL", "SET_FPREG", "SAVE_NONVOL", "SAVE_NONVOL_FAR", "SAVE_XMM128",
        "SAVE_XMM128_FAR", "PUSH_MACHFRAME",
      ]), "\(seen)")
  }

  /// The function exported as `name` and its unwind info.
  func function(_ name: String) throws -> (RuntimeFunction, UnwindInfo) {
    let image = try PEImage.open(path: try UnwindDLL.get())
    let rva = try #require(try image.exports().rva(of: name))
    let function = try #require(try image.runtimeFunction(containing: rva))
    return (function, try image.unwindInfo(at: function.unwindInfoAddress))
  }

  @Test func virtualUnwindOfAFramedBody() throws {
    let (_, info) = try function("saves")
    // The stack `saves` builds (push rbp; sub rsp, 0x90000; lea rbp, [rsp+0x20]; saves), entered
    // with RSP = entry; its body runs with RSP = entry - 8 - 0x90000.
    let entry: UInt64 = 0x7FF0_0100_0000
    let body = entry - 8 - 0x90000
    let memory: [UInt64: UInt64] = [
      entry: 0x7FFA_1234_5678,  // the return address
      entry - 8: 0xBBBB,  // the caller's rbp
      body + 0x40: 0x1111,  // rbx
      body + 0x88000: 0x2222,  // rsi
    ]
    let context = UnwindContext(rip: 0x1000_0030, rsp: body, registers: [5: body + 0x20])
    let caller = try info.virtualUnwind(context, offset: UInt32(info.sizeOfProlog), read: { memory[$0] })
    #expect(caller.rip == 0x7FFA_1234_5678)
    #expect(caller.rsp == entry + 8)
    #expect(caller.registers[3] == 0x1111)
    #expect(caller.registers[6] == 0x2222)
    #expect(caller.registers[5] == 0xBBBB)
    // Inside the prolog, after the allocation only (the lea at offset 8 not yet run): no frame register.
    let early = try info.virtualUnwind(
      UnwindContext(rip: 0x1000_0008, rsp: body), offset: 8, read: { memory[$0] })
    #expect(early.rip == 0x7FFA_1234_5678)
    #expect(early.rsp == entry + 8)
    #expect(early.registers[5] == 0xBBBB)
    // A framed body without the frame register's value is a named error.
    #expect(throws: UnwindError.unknownFrameRegister(register: 5, rip: 0x1000_0030)) {
      try info.virtualUnwind(UnwindContext(rip: 0x1000_0030, rsp: body), offset: 0x30, read: { memory[$0] })
    }
  }

  @Test func virtualUnwindThroughAMachineFrame() throws {
    let (_, info) = try function("machframe")
    // Hardware pushed SS, RSP, EFLAGS, CS, RIP and an error code; then push rbp; sub rsp, 0x18.
    let rsp: UInt64 = 0x50_0000
    let frame = rsp + 0x18 + 8  // the error code
    let memory: [UInt64: UInt64] = [rsp + 0x18: 0xBB, frame + 8: 0x4444_0000, frame + 8 + 24: 0x60_0000]
    let caller = try info.virtualUnwind(UnwindContext(rip: 0, rsp: rsp), offset: 9, read: { memory[$0] })
    #expect(caller.rip == 0x4444_0000)
    #expect(caller.rsp == 0x60_0000)
    #expect(caller.registers[5] == 0xBB)
  }

  @Test func chainedEntriesAreFollowedAndBounded() throws {
    // Primary: CHAININFO, one ALLOC_SMALL of 0x10 at offset 4, chained to the entry at RVA 0x2000.
    let primary: [UInt8] = [0x01 | 0x04 << 3, 4, 1, 0, 4, 0x12, 0, 0] + le(0x1000) + le(0x1100) + le(0x2000)
    let parent: [UInt8] = [0x01, 1, 1, 0, 1, 0x30, 0, 0]  // PUSH_NONVOL rbx at offset 1
    let info = try UnwindInfo.parse(primary, rva: 0x3000, source: "test")
    #expect(info.chained == RuntimeFunction(beginAddress: 0x1000, endAddress: 0x1100, unwindInfoAddress: 0x2000))
    let memory: [UInt64: UInt64] = [0x110: 0x77, 0x118: 0xCAFE]
    let caller = try info.virtualUnwind(
      UnwindContext(rip: 0, rsp: 0x100), offset: 0x20, read: { memory[$0] },
      chain: { rva throws(PEError) in try UnwindInfo.parse(rva == 0x2000 ? parent : primary, rva: rva, source: "t") })
    #expect(caller.rip == 0xCAFE)
    #expect(caller.rsp == 0x120)
    #expect(caller.registers[3] == 0x77)
    // An entry chained to itself ends at the bound, as a named error.
    #expect(throws: UnwindError.chainTooDeep(rva: 0x2000)) {
      try info.virtualUnwind(
        UnwindContext(rip: 0, rsp: 0x100), offset: 0x20, read: { _ in 0 },
        chain: { rva throws(PEError) in try UnwindInfo.parse(primary, rva: rva, source: "t") })
    }
  }

  @Test func malformedInfoIsANamedError() {
    // Version 3; an ALLOC_LARGE missing its size slot; a CHAININFO without its trailer; op 7 (spare).
    let cases: [[UInt8]] = [
      [0x03, 0, 0, 0], [0x01, 4, 1, 0, 4, 0x01, 0, 0], [0x01 | 0x04 << 3, 0, 0, 0], [0x01, 0, 1, 0, 0, 7],
    ]
    for bytes in cases {
      #expect(throws: PEError.self) { try UnwindInfo.parse(bytes, rva: 0x10, source: "t") }
    }
    // Random input: parse returns or throws, never traps (the fuzzing entry point's contract).
    var generator = SystemRandomNumberGenerator()
    for _ in 0..<20_000 {
      let bytes = (0..<Int.random(in: 0...40, using: &generator)).map { _ in
        UInt8.random(in: 0...255, using: &generator)
      }
      _ = try? UnwindInfo.parse(bytes, rva: 0, source: "random")
    }
  }
}

private func le(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
