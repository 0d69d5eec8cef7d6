// Null-terminated chains, EX_FAST_REF arrays, C strings and GUIDs over synthetic memory (the same
// 2 MiB mapping as StringAndListTests: VA 0..0x20_0000 mapped, above unmapped).

import AddressSpace
import Testing

@Suite struct ChainAndFastRefTests {
  /// Nodes at 0x100 → 0x200 → 0x300 → null, the Next pointer 0x10 into each node; the head at 0x80.
  static func chainSpace(_ patch: (inout MemoryBuilder) -> Void = { _ in }) -> VirtualAddressSpace {
    StringAndListTests.space { m in
      m.put64(0x80, 0x100)
      m.put64(0x110, 0x200)
      m.put64(0x210, 0x300)
      m.put64(0x310, 0)
      patch(&m)
    }
  }

  @Test func chainEndsAtNull() {
    let walk = Self.chainSpace().chain(head: 0x80, nextOffset: 0x10)
    #expect(walk.nodes == [0x100, 0x200, 0x300])
    #expect(walk.stop == .nullTerminated && walk.isComplete)
    #expect(Self.chainSpace { $0.put64(0x80, 0) }.chain(head: 0x80, nextOffset: 0x10).nodes.isEmpty)
  }

  @Test func chainLoopStopsAtTheRepeat() {
    let walk = Self.chainSpace { $0.put64(0x310, 0x200) }.chain(head: 0x80, nextOffset: 0x10)
    #expect(walk.nodes == [0x100, 0x200, 0x300])
    #expect(walk.stop == .cycle(at: 0x200))
  }

  @Test func chainLongerThanTheBoundIsCut() {
    let walk = Self.chainSpace().chain(head: 0x80, nextOffset: 0x10, bound: 2)
    #expect(walk.nodes == [0x100, 0x200])
    #expect(walk.stop == .bound(2))
  }

  @Test func chainIntoUnmappedMemoryNamesTheLink() {
    let walk = Self.chainSpace { $0.put64(0x210, 0x30_0000) }.chain(head: 0x80, nextOffset: 0x10)
    #expect(walk.nodes == [0x100, 0x200, 0x30_0000])
    guard case .readFailed(let at, _) = walk.stop else {
      Issue.record("expected readFailed, got \(walk.stop)")
      return
    }
    #expect(at == 0x30_0010)
    let unreadableHead = Self.chainSpace().chain(head: 0x30_0000, nextOffset: 0x10)
    #expect(unreadableHead.nodes.isEmpty && unreadableHead.stop != .nullTerminated)
  }

  @Test func fastRefSlotsClearTheReferenceCount() throws {
    // x64: 4 reference-count bits (public PDB: _EX_FAST_REF.RefCnt : Pos 0, 4 Bits).
    let space = StringAndListTests.space { m in
      m.put64(0x400, 0x1000 | 0xf)
      m.put64(0x408, 0)
      m.put64(0x410, 0x2000 | 0x3)
    }
    let slots = try space.fastRefSlots(at: 0x400, count: 3)
    #expect(slots.map(\.object) == [0x1000, 0, 0x2000])
    #expect(slots.map(\.value) == [0x100f, 0, 0x2003])
    #expect(slots.map(\.index) == [0, 1, 2])
    #expect(space.fastRefMask == 0xf)
    #expect(throws: TranslationError.self) { try space.fastRefSlots(at: 0x1f_fff8, count: 2) }
  }

  @Test func cStringStopsAtNulOrLimitAndReadsUpToAnUnmappedPage() throws {
    let space = StringAndListTests.space { m in
      m.put(0x500, Array("PnpDevice\u{0}".utf8))
      m.put(0x1f_fffc, Array("abcd".utf8))  // runs into the unmapped VA 0x20_0000
    }
    #expect(try space.readCString(at: 0x500) == "PnpDevice")
    #expect(try space.readCString(at: 0x500, limit: 3) == "Pnp")
    #expect(try space.readCString(at: 0x1f_fffc) == "abcd")
    #expect(throws: TranslationError.self) { try space.readCString(at: 0x20_0000) }
  }

  @Test func guidIsFormattedWithItsLittleEndianFields() throws {
    // GUID_DEVINTERFACE_VOLUME {53F5630D-B6BF-11D0-94F2-00A0C91EFB8B} as stored in memory.
    let stored: [UInt8] = [
      0x0d, 0x63, 0xf5, 0x53, 0xbf, 0xb6, 0xd0, 0x11, 0x94, 0xf2, 0x00, 0xa0, 0xc9, 0x1e, 0xfb, 0x8b,
    ]
    let space = StringAndListTests.space { $0.put(0x600, stored) }
    #expect(try space.readGUID(at: 0x600) == "53F5630D-B6BF-11D0-94F2-00A0C91EFB8B")
  }

  @Test func list32WalksFourByteLinks() {
    let space = StringAndListTests.space { m in
      m.put32(0x700, 0x740)
      m.put32(0x740, 0x780)
      m.put32(0x780, 0x700)
    }
    let walk = space.listEntries(head: 0x700, linkWidth: 4)
    #expect(walk.entries == [0x740, 0x780] && walk.isComplete)
  }
}
