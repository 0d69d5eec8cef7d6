// UNICODE_STRING reads and LIST_ENTRY walks over synthetic memory: normal lists, loops, bounds,
// unreadable links, backward walks, capped and malformed strings.

import AddressSpace
import MemoryImage
import Testing

@Suite struct StringAndListTests {
  /// Identity-ish mapping: PML4 0x1000 → PDPT 0x2000 → PD 0x3000 → 2 MiB page at 0x20_0000 for VA 0.
  /// VA 0x20_0000.. is unmapped.
  static func space(_ fill: (inout MemoryBuilder) -> Void) -> VirtualAddressSpace {
    var m = MemoryBuilder(size: 0x40_0000)
    m.put64(0x1000, 0x2000 | PTE.prw)
    m.put64(0x2000, 0x3000 | PTE.prw)
    m.put64(0x3000, 0x20_0000 | PTE.prw | PTE.ps)
    var data = MemoryBuilder(size: 0x20_0000)
    fill(&data)
    m.put(0x20_0000, data.bytes)
    return VirtualAddressSpace(memory: m.memory(), dtb: 0x1000, mode: .x64FourLevel)
  }

  static func utf16(_ s: String) -> [UInt8] { s.utf16.flatMap { [UInt8($0 & 0xff), UInt8($0 >> 8)] } }

  @Test func unicodeString() throws {
    let name = "\\SystemRoot\\system32\\ntoskrnl.exe"
    let space = Self.space { m in
      m.put16(0x100, UInt16(name.utf16.count * 2))
      m.put16(0x102, UInt16(name.utf16.count * 2 + 2))
      m.put64(0x108, 0x1000)
      m.put(0x1000, Self.utf16(name))
    }
    #expect(try space.readUnicodeString(at: 0x100) == name)
    #expect(try space.readUnicodeString(at: 0x100, maxBytes: 12) == "\\Syste")
    #expect(try space.readUnicodeString(at: 0x100, maxBytes: 13) == "\\Syste")
  }

  @Test func unicodeStringLossyAndOddLength() throws {
    let space = Self.space { m in
      m.put16(0x100, 7)  // odd: the last byte is dropped
      m.put64(0x108, 0x1000)
      m.put(0x1000, [0x41, 0x00, 0x00, 0xd8, 0x42, 0x00, 0x43])  // "A", lone high surrogate, "B"
      m.put16(0x200, 0)
      m.put64(0x208, 0x1f_ff00)
    }
    #expect(try space.readUnicodeString(at: 0x100) == "A\u{FFFD}B")
    #expect(try space.readUnicodeString(at: 0x200) == "")
  }

  @Test func unicodeStringBufferUnmapped() {
    let space = Self.space { m in
      m.put16(0x100, 0x40)
      m.put64(0x108, 0x30_0000)
    }
    #expect {
      _ = try space.readUnicodeString(at: 0x100)
    } throws: { error in
      guard case .notMapped(let va, let level, _, _) = error as? TranslationError else { return false }
      return va == 0x30_0000 && level.name == "PD"
    }
  }

  @Test func unicodeStringX86Layout() throws {
    var m = MemoryBuilder(size: 0x10_0000)
    m.put32(0x2000, 0x3000 | 0x3)  // PDE 0 → PT
    m.put32(0x3000, 0x8000 | 0x3)  // VA 0 → 0x8000
    m.put16(0x8010, 4)
    m.put16(0x8012, 6)
    m.put32(0x8014, 0x20)  // Buffer at +4 on x86
    m.put(0x8020, Self.utf16("hi"))
    let space = VirtualAddressSpace(memory: m.memory(), dtb: 0x2000, mode: .x86)
    #expect(try space.readUnicodeString(at: 0x10) == "hi")
  }

  /// Entries at 0x100 (head), 0x200, 0x300, 0x400, linked both ways.
  static func listSpace(_ patch: (inout MemoryBuilder) -> Void = { _ in }) -> VirtualAddressSpace {
    space { m in
      let nodes: [UInt64] = [0x100, 0x200, 0x300, 0x400]
      for (i, n) in nodes.enumerated() {
        m.put64(n, nodes[(i + 1) % nodes.count])
        m.put64(n + 8, nodes[(i + nodes.count - 1) % nodes.count])
      }
      patch(&m)
    }
  }

  @Test func listReturnsToHead() {
    let walk = Self.listSpace().listEntries(head: 0x100)
    #expect(walk.entries == [0x200, 0x300, 0x400])
    #expect(walk.stop == .returnedToHead && walk.isComplete)
    let back = Self.listSpace().listEntries(head: 0x100, forward: false)
    #expect(back.entries == [0x400, 0x300, 0x200])
    #expect(back.stop == .returnedToHead)
  }

  @Test func listCycleStops() {
    let walk = Self.listSpace { $0.put64(0x400, 0x200) }.listEntries(head: 0x100)
    #expect(walk.entries == [0x200, 0x300, 0x400])
    #expect(walk.stop == .cycle(at: 0x200))
    let selfLoop = Self.listSpace { $0.put64(0x200, 0x200) }.listEntries(head: 0x100)
    #expect(selfLoop.entries == [0x200] && selfLoop.stop == .cycle(at: 0x200))
  }

  @Test func listBound() {
    let walk = Self.listSpace().listEntries(head: 0x100, bound: 2)
    #expect(walk.entries == [0x200, 0x300])
    #expect(walk.stop == .bound(2))
  }

  @Test func listUnreadableLink() {
    let walk = Self.listSpace { $0.put64(0x300, 0x30_0000) }.listEntries(head: 0x100)
    #expect(walk.entries == [0x200, 0x300, 0x30_0000])
    guard case .readFailed(let at, .notMapped(let va, _, _, _)) = walk.stop else {
      Issue.record("unexpected stop \(walk.stop)")
      return
    }
    #expect(at == 0x30_0000 && va == 0x30_0000)
    let empty = Self.listSpace().listEntries(head: 0x1f_fff8 + 0x10)
    guard case .readFailed = empty.stop else {
      Issue.record("unexpected stop \(empty.stop)")
      return
    }
    #expect(empty.entries.isEmpty)
  }

  @Test func emptyListHead() {
    let walk = Self.space { m in m.put64(0x100, 0x100) }.listEntries(head: 0x100)
    #expect(walk.entries.isEmpty && walk.stop == .returnedToHead)
  }
}
