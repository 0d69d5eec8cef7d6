// The decoder against the varied-unknown reference image's truth: every rip-relative reference the
// image's writer recorded (instruction VA → target VA) in the export code, and every call hop.

import Disassembly
import Foundation
import TestData
import Testing

struct DisassemblerTests {
  static func truth() throws -> [String: Any] {
    let url = TestData.shared("images/win10-19041-clean-varied-unknown.truth.json")
    return try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
  }

  static func number(_ any: Any?) -> UInt64? {
    guard let text = any as? String, text.hasPrefix("0x") else { return nil }
    return UInt64(text.dropFirst(2), radix: 16)
  }

  static func bytes(_ hex: String) -> [UInt8] {
    var out: [UInt8] = []
    var it = hex.makeIterator()
    while let a = it.next(), let b = it.next() { out.append(UInt8(String([a, b]), radix: 16) ?? 0) }
    return out
  }

  @Test func ripRelativeTargetsMatchTheTruth() throws {
    let code = try #require(try Self.truth()["nt_code"] as? [String: [String: Any]])
    let decoder = try Disassembler(.x64)
    var checked = 0
    for (name, entry) in code {
      guard let va = Self.number(entry["va"]), let hex = entry["bytes"] as? String,
        let chain = entry["chain"] as? [String: Any], let refs = chain["refs"] as? [[String: Any]]
      else { continue }
      let bytes = Self.bytes(hex)
      for ref in refs where (ref["hops"] as? [Any])?.isEmpty ?? true {
        guard let at = Self.number(ref["insn_va"]), let target = Self.number(ref["target_va"]), at >= va,
          at - va < UInt64(bytes.count)
        else { continue }
        let insn = try #require(decoder.decode(Array(bytes[Int(at - va)...]), at: at), "\(name) at \(at)")
        #expect(insn.memoryTargets.map(\.address).contains(target), "\(name): \(insn.text)")
        if let form = ref["form"] as? String, form.hasPrefix("lea") {
          #expect(insn.memoryTargets.first?.addressOnly == true, "\(name): \(insn.text)")
        }
        checked += 1
      }
    }
    #expect(checked >= 10)
  }

  @Test func callAndJumpTargetsMatchTheTruth() throws {
    let heads = try #require((try Self.truth()["code_chains"] as? [String: Any])?["heads"] as? [String: [String: Any]])
    let code = try #require(try Self.truth()["nt_code"] as? [String: [String: Any]])
    let decoder = try Disassembler(.x64)
    var checked = 0
    for (_, head) in heads {
      for chain in head["chains"] as? [[String: Any]] ?? [] {
        for hop in chain["hops"] as? [[String: Any]] ?? [] {
          guard let at = Self.number(hop["insn_va"]), let target = Self.number(hop["target_va"]) else { continue }
          // Hops that sit in an export's recorded bytes can be decoded here.
          for (_, entry) in code {
            guard let va = Self.number(entry["va"]), let hex = entry["bytes"] as? String else { continue }
            let bytes = Self.bytes(hex)
            guard at >= va, at - va < UInt64(bytes.count) else { continue }
            let insn = try #require(decoder.decode(Array(bytes[Int(at - va)...]), at: at))
            switch (insn.flow, hop["kind"] as? String) {
            case (.call(let t), "call"): #expect(t == target, "\(insn.text)")
            case (.jump(let t), "jmp"): #expect(t == target, "\(insn.text)")
            default: Issue.record("hop at \(at): \(insn.text) is not a \(hop["kind"] ?? "?")")
            }
            checked += 1
          }
        }
      }
    }
    #expect(checked >= 10)
  }

  @Test func decodesPrefixesComparisonsAndFlow() throws {
    let d = try Disassembler(.x64)
    // f0 0f c1 05 10 00 00 00: lock xadd dword ptr [rip + 0x10], eax
    let xadd = try #require(d.decode([0xf0, 0x0f, 0xc1, 0x05, 0x10, 0, 0, 0], at: 0x1000))
    #expect(xadd.isLocked && xadd.length == 8)
    #expect(
      xadd.memoryTargets == [MemoryTarget(address: 0x1018, size: 4, addressOnly: false, reads: true, writes: true)])
    // 83 f8 14: cmp eax, 0x14 ; 74 5b: je +0x5b ; c3: ret ; ff e0: jmp rax ; cc: int3
    #expect(try #require(d.decode([0x83, 0xf8, 0x14], at: 0)).comparedImmediate == 0x14)
    #expect(try #require(d.decode([0x74, 0x5b], at: 0x100)).flow == .conditionalJump(target: 0x15d, condition: .equal))
    #expect(try #require(d.decode([0xc3], at: 0)).flow == .ret)
    #expect(try #require(d.decode([0xff, 0xe0], at: 0)).flow == .jump(target: nil))
    #expect(try #require(d.decode([0xcc], at: 0)).flow == .trap)
    // e8 fb ff ff ff at 0x2000: call 0x2000 (itself)
    #expect(try #require(d.decode([0xe8, 0xfb, 0xff, 0xff, 0xff], at: 0x2000)).flow == .call(target: 0x2000))
    // Cut short, or not an instruction.
    #expect(d.decode([0x48, 0x8d], at: 0) == nil)
    #expect(d.decode([], at: 0) == nil)
    // x86: a1 78 56 34 12: mov eax, dword ptr [0x12345678]
    let x86 = try Disassembler(.x86)
    let mov = try #require(x86.decode([0xa1, 0x78, 0x56, 0x34, 0x12], at: 0x8000_0000))
    #expect(mov.memoryTargets.map(\.address) == [0x1234_5678])
  }
}
