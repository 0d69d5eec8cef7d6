// CStructLayout on small declarations whose layouts follow from the MSVC rules (each member at the
// next multiple of its alignment; the size rounded up to the largest alignment; x86 pointers 4
// bytes, LARGE_INTEGER 8-aligned on both, GUID 4-aligned, UNICODE_STRING 16 / 8 bytes).

import Callbacks
import Testing
import WindowsKernel

@Suite struct CStructLayoutTests {
  @Test func membersAlignNaturally() throws {
    let members: [(String, CType)] = [("a", .u8), ("b", .u32), ("c", .u16), ("d", .pointer), ("e", .u8)]
    let x64 = CStructLayout("S", pointerSize: 8, members)
    let x86 = CStructLayout("S", pointerSize: 4, members)
    #expect(x64.offsets == ["a": 0, "b": 4, "c": 8, "d": 0x10, "e": 0x18])
    #expect(x64.size == 0x20)
    #expect(x86.offsets == ["a": 0, "b": 4, "c": 8, "d": 0x0c, "e": 0x10])
    #expect(x86.size == 0x14)
    #expect(try x64["d"] == 0x10)
    #expect(x64.name == "S")
  }

  @Test func largeIntegerIsEightAlignedOnX86Too() throws {
    let members: [(String, CType)] = [("a", .u32), ("b", .largeInteger), ("c", .u8)]
    for p in [4, 8] {
      let l = CStructLayout("L", pointerSize: p, members)
      #expect(l.offsets == ["a": 0, "b": 8, "c": 0x10])
      #expect(l.size == 0x18)
    }
    let u64 = CStructLayout("Q", pointerSize: 4, [("a", .u8), ("q", .u64)])
    #expect(try u64["q"] == 8)
  }

  @Test func guidIsFourAligned() {
    let l = CStructLayout("G", pointerSize: 8, [("a", .u8), ("g", .guid), ("b", .u8)])
    #expect(l.offsets == ["a": 0, "g": 4, "b": 0x14])
    #expect(l.size == 0x18)
  }

  @Test func listEntryAndUnicodeStringScaleWithPointers() {
    let members: [(String, CType)] = [("l", .listEntry), ("u", .unicodeString), ("x", .u8)]
    let x64 = CStructLayout("LU", pointerSize: 8, members)
    let x86 = CStructLayout("LU", pointerSize: 4, members)
    #expect(x64.offsets == ["l": 0, "u": 0x10, "x": 0x20])
    #expect(x64.size == 0x28)
    #expect(x86.offsets == ["l": 0, "u": 0x08, "x": 0x10])
    #expect(x86.size == 0x14)
  }

  @Test func nestedStructTakesNoBytesButAligns() {
    let members: [(String, CType)] = [("a", .u32), ("n", .nestedStruct), ("first", .u16)]
    #expect(CStructLayout("N", pointerSize: 8, members).offsets == ["a": 0, "n": 8, "first": 8])
    #expect(CStructLayout("N", pointerSize: 4, members).offsets == ["a": 0, "n": 4, "first": 4])
  }

  @Test func rawBytesUseTheirOwnAlignment() throws {
    let l = CStructLayout("B", pointerSize: 8, [("a", .u8), ("r", .bytes(count: 5, alignment: 1)), ("p", .pointer)])
    #expect(l.offsets == ["a": 0, "r": 1, "p": 8])
    let aligned = CStructLayout("B", pointerSize: 8, [("a", .u8), ("r", .bytes(count: 3, alignment: 4))])
    #expect(try aligned["r"] == 4)
    #expect(aligned.size == 8)
  }

  @Test func emptyAndMissing() {
    let empty = CStructLayout("E", pointerSize: 8, [])
    #expect(empty.size == 0)
    #expect(empty.offsets.isEmpty)
    // A member that was never declared is an error naming struct.member — not offset 0 (which would
    // silently read member `a`).
    let layout = CStructLayout("M", pointerSize: 8, [("a", .u8), ("b", .u32)])
    do {
      let offset = try layout["nope"]
      Issue.record("undeclared member answered \(offset)")
    } catch {
      guard case .undeclaredMember(let structName, let member) = error else {
        Issue.record("unexpected error \(error)")
        return
      }
      #expect(structName == "M" && member == "nope")
      #expect(error.description.contains("M.nope"))
    }
  }
}
