// Synthetic 32-bit page tables: PAE (32-byte aligned PDPT, 2 MiB pages, NX) and 32-bit paging
// (4-byte entries, 4 MiB PSE pages with PSE-36 high address bits).

import AddressSpace
import MemoryImage
import Testing

@Suite struct X86PagingTests {
  /// PAE: PDPT at 0x1020 (not page aligned), PD for 0xC0000000 at 0x3000, PT at 0x4000.
  static func paeSpace() -> VirtualAddressSpace {
    var m = MemoryBuilder(size: 0x60_0000)
    m.put64(0x1020 + 3 * 8, 0x3000 | PTE.p)  // PDPTE 3 (bits 1, 2 reserved)
    m.put64(0x1020 + 0 * 8, 0x5000 | PTE.p)  // PDPTE 0 → empty PD
    m.put64(0x3000 + 0 * 8, 0x4000 | PTE.prw)  // PD[0] → PT
    m.put64(0x3000 + 1 * 8, 0x40_0000 | PTE.prw | PTE.ps | PTE.nx)  // PD[1]: 2 MiB page
    m.put64(0x4000 + 2 * 8, 0x9000 | PTE.prwu)  // PT[2] → 0x9000
    m.put64(0x4000 + 3 * 8, 0x0000_0002_0000_0000 | (4 << 5))  // PT[3]: page file (PAE PageFileHigh)
    m.pattern(0x9000, tag: 0x90)
    m.pattern(0x40_0000, tag: 0x44, count: 0x1000)
    return VirtualAddressSpace(memory: m.memory(), dtb: 0x1020 | 0x18, mode: .x86PAE)
  }

  @Test func paeLeaves() throws {
    let space = paeSpaceShared
    #expect(space.rootTable == 0x1020)
    #expect(space.pointerSize == 4)
    let small = try space.translate(0xc000_2abc)
    #expect(small.physical == 0x9abc && small.pageSize == 0x1000 && !small.user)  // PD entry is supervisor
    let large = try space.translate(0xc020_1234)
    #expect(large.physical == 0x40_1234 && large.pageSize == 0x20_0000 && !large.executable)
    #expect(try space.readUInt32(0xc020_0000) == 0x4746_4544)
    #expect(try space.readPointer(0xc000_2000) == 0x9392_9190)
  }

  let paeSpaceShared = X86PagingTests.paeSpace()

  @Test func paeErrors() {
    let space = paeSpaceShared
    #expect(throws: TranslationError.nonCanonical(va: 0x1_0000_0000)) { try space.translate(0x1_0000_0000) }
    let cases: [(UInt64, String, UInt64)] = [
      (0x4000_0000, "PDPT", 0x1028), (0x0000_0000, "PD", 0x5000), (0xc000_0000, "PT", 0x4000),
    ]
    for (va, name, at) in cases {
      #expect {
        _ = try space.translate(va)
      } throws: { error in
        guard case .notMapped(_, let level, let entryAddress, _) = error as? TranslationError else { return false }
        return level.name == name && entryAddress == at
      }
    }
    #expect {
      _ = try space.translate(0xc000_3000)
    } throws: { error in
      guard case .pagedOut(_, _, _, .pagefile) = error as? TranslationError else { return false }
      return true
    }
  }

  @Test func paeEnumeration() {
    var pages: [Translation] = []
    paeSpaceShared.forEachMappedPage(in: 0...0xffff_ffff) {
      pages.append($0); return true
    }
    #expect(pages.map(\.virtual) == [0xc000_2000, 0xc020_0000])
    #expect(pages.map(\.pageSize) == [0x1000, 0x20_0000])
  }

  /// 32-bit paging: PD at 0x2000, PT at 0x3000; PDE 0x300 is a 4 MiB page at 0x1_2340_0000 (PSE-36).
  static func x86Space() -> VirtualAddressSpace {
    var m = MemoryBuilder(size: 0x10_0000)
    m.put32(0x2000 + 0x001 * 4, 0x3000 | 0x7)  // PDE 1 → PT (user, writable)
    // 4 MiB page: bits 31..22 = 0x234 << 22 → 0x8d00_0000; bits 20..13 = 0x01 → address bit 32.
    m.put32(0x2000 + 0x300 * 4, 0x8d00_0000 | (0x01 << 13) | 0x83)
    m.put32(0x3000 + 5 * 4, 0x8000 | 0x5)  // PTE 5 → 0x8000 read-only user
    m.put32(0x3000 + 6 * 4, 0x0001_2000 | (4 << 5) | (1 << 11))  // transition, frame 0x12000
    m.put32(0x3000 + 7 * 4, (4 << 5) | (1 << 10))  // prototype
    m.pattern(0x8000, tag: 0x80)
    m.pattern(0x1_2000, tag: 0xa0)
    return VirtualAddressSpace(memory: m.memory(), dtb: 0x2000, mode: .x86)
  }

  @Test func x86Leaves() throws {
    let space = Self.x86Space()
    let small = try space.translate(0x0040_5010)
    #expect(small.physical == 0x8010 && small.pageSize == 0x1000 && small.user && !small.writable && small.executable)
    let large = try space.translate(0xc012_3456)
    #expect(large.physical == 0x1_8d12_3456 && large.pageSize == 0x40_0000)
    #expect(try space.readUInt8(0x0040_5003) == 0x83)
    let transition = try space.translate(0x0040_6004)
    #expect(transition.physical == 0x1_2004 && transition.inTransition)
    #expect {
      _ = try space.translate(0x0040_7000)
    } throws: { error in
      guard case .pagedOut(_, let level, _, .prototype) = error as? TranslationError else { return false }
      return level.name == "PT"
    }
    #expect {
      _ = try space.translate(0x0080_0000)
    } throws: { error in
      guard case .notMapped(_, let level, let at, _) = error as? TranslationError else { return false }
      return level.name == "PD" && at == 0x2008
    }
    var pages: [UInt64] = []
    space.forEachMappedPage(in: 0...0xffff_ffff) {
      pages.append($0.virtual); return true
    }
    #expect(pages == [0x0040_5000, 0xc000_0000])
  }
}
