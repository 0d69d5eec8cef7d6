// Synthetic x64 4-level and 5-level page tables: leaves of every size, rights, canonical checks,
// not-present entries at each level, Windows software PTEs, loops and tables outside memory.

import AddressSpace
import MemoryImage
import Testing

@Suite struct X64PagingTests {
  /// PML4 0x1000 → PDPT 0x2000 → PD 0x3000 → PT 0x4000; data pages from 0x10000; 1 GiB page at 0x4000_0000
  /// is outside this 8 MiB memory, so data reads from it fail but translation works.
  static func build() -> MemoryBuilder {
    var m = MemoryBuilder(size: 0x80_0000)
    m.put64(0x1000 + 0 * 8, 0x2000 | PTE.prwu)  // PML4[0] → PDPT
    m.put64(0x2000 + 1 * 8, 0x3000 | PTE.prwu)  // PDPT[1] → PD
    m.put64(0x2000 + 2 * 8, 0x4000_0000 | PTE.prw | PTE.ps)  // PDPT[2]: 1 GiB page, supervisor
    m.put64(0x3000 + 0 * 8, 0x4000 | PTE.prwu)  // PD[0] → PT
    // PD[1]: 2 MiB page, read-only, NX, with the PAT bit (12) set.
    m.put64(0x3000 + 1 * 8, 0x20_0000 | PTE.p | PTE.us | PTE.ps | 0x1000 | PTE.nx)
    m.put64(0x4000 + 3 * 8, 0x1_0000 | PTE.prwu)  // PT[3] → 0x10000
    m.put64(0x4000 + 4 * 8, 0x1_2000 | PTE.p | PTE.us | PTE.nx)  // PT[4] → 0x12000 read-only NX
    m.put64(0x4000 + 5 * 8, 0x1_3000 | (4 << 5) | (1 << 11))  // PT[5]: transition, frame 0x13000
    m.put64(0x4000 + 6 * 8, 0xffff_ffff_0000_0000 | (4 << 5) | (1 << 10))  // PT[6]: prototype (VAD)
    m.put64(0x4000 + 7 * 8, 0x0000_1234_0000_0000 | (4 << 5) | (2 << 12))  // PT[7]: page file 2, offset 0x1234
    m.put64(0x4000 + 8 * 8, 4 << 5)  // PT[8]: demand zero (protection only)
    m.put64(0x4000 + 9 * 8, 0x2)  // PT[9]: junk (no protection): not a software PTE
    m.put64(0x4000 + 10 * 8, 0x7f_f000 | PTE.prwu)  // PT[10] → last page of memory
    m.put64(0x4000 + 11 * 8, 0x80_0000 | PTE.prwu)  // PT[11] → just past memory
    m.pattern(0x1_0000, tag: 0x10)
    m.pattern(0x1_2000, tag: 0x12)
    m.pattern(0x1_3000, tag: 0x13)
    m.pattern(0x20_0000, tag: 0x20, count: 0x20_0000)
    return m
  }

  static let space = VirtualAddressSpace(memory: build().memory(), dtb: 0x1000, mode: .x64FourLevel)

  @Test func fourKilobytePage() throws {
    let t = try Self.space.translate(x64VA(0, 1, 0, 3, 0x123))
    #expect(t.physical == 0x1_0123)
    #expect(t.pageSize == 0x1000)
    #expect(t.writable && t.user && t.executable && !t.inTransition)
    #expect(try Self.space.read(x64VA(0, 1, 0, 3, 0x10), count: 4) == [0x20, 0x21, 0x22, 0x23])
    let ro = try Self.space.translate(x64VA(0, 1, 0, 4, 8))
    #expect(ro.physical == 0x1_2008 && !ro.writable && ro.user && !ro.executable)
  }

  @Test func twoMegabytePageIgnoresPATBit() throws {
    let t = try Self.space.translate(x64VA(0, 1, 1, 0x17, 0x456))
    #expect(t.physical == 0x20_0000 + 0x17_456)
    #expect(t.pageSize == 0x20_0000)
    #expect(!t.writable && t.user && !t.executable)
    #expect(try Self.space.readUInt8(x64VA(0, 1, 1, 0, 0x5)) == 0x25)
  }

  @Test func oneGigabytePage() throws {
    let t = try Self.space.translate(x64VA(0, 2, 0x1ab, 0xcd, 0xef))
    #expect(t.physical == 0x4000_0000 + (0x1ab << 21) + (0xcd << 12) + 0xef)
    #expect(t.pageSize == 0x4000_0000)
    #expect(t.writable && !t.user)
    // The page is beyond this 8 MiB memory: the data read names the physical failure.
    #expect {
      _ = try Self.space.readUInt64(x64VA(0, 2, 0, 0))
    } throws: { error in
      guard case .physical(let va, .notBacked(_, let address, _)) = error as? TranslationError else { return false }
      return va == x64VA(0, 2, 0, 0) && address == 0x4000_0000
    }
  }

  @Test func nonCanonicalAddresses() {
    for va: UInt64 in [0x0000_8000_0000_0000, 0xffff_7fff_ffff_ffff, 0x1234_0000_0000_0000] {
      #expect(throws: TranslationError.nonCanonical(va: va)) { try Self.space.translate(va) }
    }
    #expect(!Self.space.isMapped(0x0000_8000_0000_0000))
  }

  @Test func notMappedNamesLevelAndEntry() {
    let cases: [(UInt64, String, UInt64)] = [
      (x64VA(1, 0, 0, 0), "PML4", 0x1000 + 8),
      (x64VA(0, 0, 0, 0), "PDPT", 0x2000),
      (x64VA(0, 1, 2, 0), "PD", 0x3000 + 16),
      (x64VA(0, 1, 0, 0), "PT", 0x4000),
      (x64VA(0, 1, 0, 9), "PT", 0x4000 + 72),
    ]
    for (va, name, entryAddress) in cases {
      #expect {
        _ = try Self.space.translate(va)
      } throws: { error in
        guard case .notMapped(let v, let level, let at, _) = error as? TranslationError else { return false }
        return v == va && level.name == name && at == entryAddress
      }
    }
    #expect(throws: (any Error).self) { try Self.space.translate(x64VA(0, 1, 0, 0)) }
    do {
      _ = try Self.space.translate(x64VA(0, 1, 0, 0))
    } catch {
      #expect(error.description == "va 0x40000000: PTE at 0x4000 (entry 0x0) not present")
    }
  }

  @Test func transitionPageIsReadFromItsFrame() throws {
    let t = try Self.space.translate(x64VA(0, 1, 0, 5, 0x40))
    #expect(t.physical == 0x1_3040 && t.inTransition)
    #expect(try Self.space.readUInt32(x64VA(0, 1, 0, 5, 0)) == 0x1615_1413)
  }

  @Test func pagedOutKinds() {
    let cases: [(UInt64, PagedOutKind)] = [(6, .prototype), (7, .pagefile), (8, .demandZero)]
    for (index, kind) in cases {
      #expect {
        _ = try Self.space.translate(x64VA(0, 1, 0, index))
      } throws: { error in
        guard case .pagedOut(_, let level, _, let k) = error as? TranslationError else { return false }
        return level.name == "PT" && k == kind
      }
    }
  }

  @Test func dataPageOutsideMemory() throws {
    #expect(try Self.space.readUInt64(x64VA(0, 1, 0, 10, 0xff8)) == 0)
    #expect {
      _ = try Self.space.read(x64VA(0, 1, 0, 10, 0xffc), count: 8)  // crosses into PT[11], past the memory
    } throws: { error in
      guard case .physical(let va, _) = error as? TranslationError else { return false }
      return va == x64VA(0, 1, 0, 11)
    }
  }

  @Test func readSpansPages() throws {
    var m = Self.build()
    m.put64(0x4000 + 12 * 8, 0x1_5000 | PTE.prwu)  // PT[12] → 0x15000, PT[13] → 0x14000 (not contiguous)
    m.put64(0x4000 + 13 * 8, 0x1_4000 | PTE.prwu)
    m.pattern(0x1_5000, tag: 0x50)
    m.pattern(0x1_4000, tag: 0x40)
    let space = VirtualAddressSpace(memory: m.memory(), dtb: 0x1000, mode: .x64FourLevel)
    let bytes = try space.read(x64VA(0, 1, 0, 12, 0xffe), count: 4)
    #expect(bytes == [0x4e, 0x4f, 0x40, 0x41])
    #expect(try space.readUInt64(x64VA(0, 1, 0, 12, 0xffc)) == 0x4342_4140_4f4e_4d4c)
    #expect(try space.readUInt16(x64VA(0, 1, 0, 12, 0xfff)) == 0x404f)
    #expect(try space.read(x64VA(0, 1, 0, 12), count: 0).isEmpty)
    #expect {
      _ = try space.read(x64VA(0, 1, 0, 13, 0xff0), count: 0x20)  // runs into PT[14], empty
    } throws: { error in
      guard case .notMapped(let va, let level, _, _) = error as? TranslationError else { return false }
      return va == x64VA(0, 1, 0, 14) && level.name == "PT"
    }
  }

  @Test func absurdReadCountIsRefused() throws {
    #expect {
      _ = try Self.space.read(x64VA(0, 1, 1, 0), count: Int.max)
    } throws: { error in
      guard case .physical(_, .unsupported(_, let message)) = error as? TranslationError else { return false }
      return message.contains("exceeds")
    }
    #expect(try Self.space.read(x64VA(0, 1, 1, 0), count: -5).isEmpty)
  }

  @Test func directoryTableBaseOutsideMemory() {
    let space = VirtualAddressSpace(memory: Self.build().memory(), dtb: 0x1_0000_0000, mode: .x64FourLevel)
    #expect {
      _ = try space.translate(0x1000)
    } throws: { error in
      guard case .physical(0x1000, .notBacked(_, let address, _)) = error as? TranslationError else { return false }
      return address == 0x1_0000_0000
    }
  }

  @Test func cr3FlagBitsAreIgnored() throws {
    let space = VirtualAddressSpace(
      memory: Self.build().memory(), dtb: 0x8000_0000_0000_1000 | 0x5a, mode: .x64FourLevel)
    #expect(space.rootTable == 0x1000)
    #expect(try space.translate(x64VA(0, 1, 0, 3)).physical == 0x1_0000)
  }

  @Test func cachedAndUncachedAgree() throws {
    for va in [x64VA(0, 1, 0, 3, 7), x64VA(0, 1, 1, 0x1ff, 0xfff), x64VA(0, 2, 0x100, 0, 1)] {
      let a = try Self.space.translate(va)
      let b = try Self.space.translate(va)
      let c = try Self.space.translateUncached(va)
      #expect(a == b && b == c)
    }
  }

  @Test func concurrentReadsAgree() async throws {
    let space = VirtualAddressSpace(memory: Self.build().memory(), dtb: 0x1000, mode: .x64FourLevel, cacheCapacity: 16)
    let results = await withTaskGroup(of: Bool.self) { group in
      for task in 0..<4 {
        group.addTask {
          for i in 0..<2000 {
            let offset = UInt64((i * 8 + task * 64) % 0x20_0000)
            guard let v = try? space.readUInt8(x64VA(0, 1, 1, 0, 0) + offset) else { return false }
            if v != UInt8(truncatingIfNeeded: 0x20 + offset) { return false }
          }
          return true
        }
      }
      return await group.reduce(true) { $0 && $1 }
    }
    #expect(results)
  }

  /// A self-map entry (PML4[0x1ed] → PML4) and a PD entry that points back up to the PDPT.
  static func loopingSpace() -> VirtualAddressSpace {
    var m = build()
    m.put64(0x1000 + 0x1ed * 8, 0x1000 | PTE.prw | PTE.nx)
    m.put64(0x3000 + 2 * 8, 0x2000 | PTE.prwu)  // PD[2] → PDPT (a table above it)
    return VirtualAddressSpace(memory: m.memory(), dtb: 0x1000, mode: .x64FourLevel)
  }

  @Test func selfMapTranslatesToTheTables() throws {
    let space = Self.loopingSpace()
    // PML4[0x1ed][0x1ed][0x1ed][0x1ed] is the PML4 page itself; [0x1ed][0x1ed][0x1ed][0] the PDPT.
    #expect(try space.translate(x64VA(0x1ed, 0x1ed, 0x1ed, 0x1ed, 8)).physical == 0x1008)
    #expect(try space.readUInt64(x64VA(0x1ed, 0x1ed, 0x1ed, 0, 8)) == 0x3000 | PTE.prwu)
    // Through PD[2] → PDPT used as a page table: PT index 1 reads PDPT[1] = the PD.
    #expect(try space.translate(x64VA(0, 1, 2, 1)).physical == 0x3000)
  }

  @Test func enumerationSkipsLoopsAndReportsLeavesInOrder() {
    var pages: [Translation] = []
    Self.loopingSpace().forEachMappedPage(in: 0...UInt64.max) {
      pages.append($0); return true
    }
    let expected: [(UInt64, UInt64, UInt64)] = [
      (x64VA(0, 1, 0, 3), 0x1_0000, 0x1000),
      (x64VA(0, 1, 0, 4), 0x1_2000, 0x1000),
      (x64VA(0, 1, 0, 10), 0x7f_f000, 0x1000),
      (x64VA(0, 1, 0, 11), 0x80_0000, 0x1000),
      (x64VA(0, 1, 1, 0), 0x20_0000, 0x20_0000),
      // PD[2] → PDPT is not on the path PML4 → PDPT → PD? It is (the PDPT): skipped.
      (x64VA(0, 2, 0, 0), 0x4000_0000, 0x4000_0000),
    ]
    #expect(pages.map { [$0.virtual, $0.physical, $0.pageSize] } == expected.map { [$0.0, $0.1, $0.2] })
    #expect(pages.map(\.virtual) == pages.map(\.virtual).sorted())
  }

  @Test func enumerationHonoursRangeAndStop() {
    var pages: [UInt64] = []
    Self.space.forEachMappedPage(in: x64VA(0, 1, 0, 4, 0x800)...x64VA(0, 1, 1, 0)) {
      pages.append($0.virtual); return true
    }
    #expect(pages == [x64VA(0, 1, 0, 4), x64VA(0, 1, 0, 10), x64VA(0, 1, 0, 11), x64VA(0, 1, 1, 0)])
    var count = 0
    Self.space.forEachMappedPage(in: 0...UInt64.max) { _ in
      count += 1; return count < 2
    }
    #expect(count == 2)
  }

  @Test func fiveLevelPaging() throws {
    var m = MemoryBuilder(size: 0x10_0000)
    // PML5 0x1000 → PML4 0x2000 → PDPT 0x3000 → PD 0x4000 → PT 0x5000 → 0x9000.
    let va: UInt64 = 0xff11_0000_0000_0000 | (0x22 << 39) | (0x33 << 30) | (0x44 << 21) | (0x55 << 12) | 0x678
    // PML5 index = bits 56..48 of va = 0x111.
    m.put64(0x1000 + 0x111 * 8, 0x2000 | PTE.prw)
    m.put64(0x2000 + 0x22 * 8, 0x3000 | PTE.prw)
    m.put64(0x3000 + 0x33 * 8, 0x4000 | PTE.prw)
    m.put64(0x4000 + 0x44 * 8, 0x5000 | PTE.prw)
    m.put64(0x5000 + 0x55 * 8, 0x9000 | PTE.prw | PTE.nx)
    let space = VirtualAddressSpace(memory: m.memory(), dtb: 0x1000, mode: .x64FiveLevel)
    let t = try space.translate(va)
    #expect(t.physical == 0x9678 && t.pageSize == 0x1000 && !t.executable && !t.user)
    // Canonical in 5-level, but the PML5 entry is empty; non-canonical only past bit 56.
    #expect {
      _ = try space.translate(0x0000_8000_0000_0000)
    } throws: { error in
      guard case .notMapped(_, let level, let at, _) = error as? TranslationError else { return false }
      return level.name == "PML5" && at == 0x1000
    }
    #expect(throws: TranslationError.nonCanonical(va: 0x0100_0000_0000_0000)) {
      try space.translate(0x0100_0000_0000_0000)
    }
    var pages: [Translation] = []
    space.forEachMappedPage(in: 0...UInt64.max) {
      pages.append($0); return true
    }
    #expect(pages.map(\.virtual) == [va & ~0xfff])
  }
}
