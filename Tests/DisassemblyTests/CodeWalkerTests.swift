// The code walker on hand-assembled code (bytes annotated with their GNU as source): a cmp/je
// dispatch, a call hop, a call loop, a jmp to itself, a far jump into zero-filled memory, a call
// into an unreadable page, and the instruction budget.

import Disassembly
import Testing

struct CodeWalkerTests {
  /// Page 0x10000 holds the code, 0x40000 is zero-filled, everything else is unreadable.
  static func walker(limits: CodeWalkLimits = .standard) throws -> CodeWalker {
    var code = [UInt8](repeating: 0xcc, count: 0x1000)
    func put(_ offset: Int, _ bytes: [UInt8]) { code.replaceSubrange(offset..<offset + bytes.count, with: bytes) }
    put(0x000, [0x83, 0xf9, 0x02])  // cmp ecx, 2
    put(0x003, [0x74, 0x0a])  // je 0x1000f
    put(0x005, [0x48, 0x8d, 0x05, 0xf4, 0xff, 0x03, 0x00])  // lea rax, [rip + 0x3fff4] → 0x50000
    put(0x00c, [0xc3])  // ret
    put(0x00f, [0x48, 0x8d, 0x05, 0xfa, 0xff, 0x03, 0x00])  // lea rax, [rip + 0x3fffa] → 0x50010
    put(0x016, [0xe8, 0xe5, 0x00, 0x00, 0x00])  // call 0x10100
    put(0x01b, [0xc3])  // ret
    put(0x100, [0x48, 0x8d, 0x0d, 0x19, 0xff, 0x03, 0x00])  // lea rcx, [rip + 0x3ff19] → 0x50020
    put(0x107, [0xe8, 0xf4, 0xff, 0xff, 0xff])  // call 0x10100 (itself)
    put(0x10c, [0xeb, 0xfe])  // jmp . (to itself)
    put(0x300, [0xe9, 0xfb, 0xfc, 0x02, 0x00])  // jmp 0x40000 (zero-filled)
    put(0x400, [0xe8, 0xfb, 0xfb, 0x01, 0x00])  // call 0x30000 (unreadable)
    put(0x405, [0xc3])
    let pages: [UInt64: [UInt8]] = [0x10000: code, 0x40000: [UInt8](repeating: 0, count: 0x1000)]
    return try CodeWalker(
      architecture: .x64, limits: limits, readPage: { pages[$0] }, mayEnter: { _ in true })
  }

  @Test func dispatchConditionsAndCallHops() throws {
    let walk = try Self.walker().walk(from: 0x10000)
    let byTarget = Dictionary(walk.references.map { ($0.target, $0) }, uniquingKeysWith: { a, _ in a })
    let first = try #require(byTarget[0x50000])
    #expect(first.condition == nil && first.hops.isEmpty)
    let second = try #require(byTarget[0x50010])
    #expect(second.condition == 2 && second.hops.isEmpty)
    let third = try #require(byTarget[0x50020])
    #expect(third.condition == 2)
    #expect(third.hops == [CodeHop(instruction: 0x10016, kind: .call, target: 0x10100)])
    #expect(third.function == 0x10100)
    // The self-call and the jmp to itself end without a hang; each function entered once.
    #expect(walk.functionCount == 2)
    #expect(walk.references.count == 3)
  }

  @Test func farJumpIntoZerosAndCallIntoUnreadablePage() throws {
    let walker = try Self.walker()
    let zeros = walker.walk(from: 0x10300)
    #expect(zeros.stops.contains { (0x40000..<0x40010).contains($0.address) && $0.reason.contains("zero-filled") })
    let unreadable = walker.walk(from: 0x10400)
    #expect(unreadable.stops.contains { $0.address == 0x30000 && $0.reason.contains("unreadable") })
    #expect(unreadable.calls == [CodeHop(instruction: 0x10400, kind: .call, target: 0x30000)])
  }

  @Test func budgetsEndTheWalkWithAReason() throws {
    var limits = CodeWalkLimits.standard
    limits.totalInstructions = 3
    let walk = try Self.walker(limits: limits).walk(from: 0x10000)
    #expect(walk.instructionCount == 3)
    #expect(walk.stops.contains { $0.reason.contains("instruction budget") })
    var shallow = CodeWalkLimits.standard
    shallow.callDepth = 0
    let noCalls = try Self.walker(limits: shallow).walk(from: 0x10000)
    #expect(noCalls.functionCount == 1)
    #expect(!noCalls.references.contains { $0.target == 0x50020 })
  }
}
