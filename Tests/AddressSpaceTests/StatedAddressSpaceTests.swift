// Address spaces built from what an image file states (CPU registers), and the mode level tables.

import AddressSpace
import MemoryImage
import Testing

/// Test memory that states CPU registers, as an ELF core or a crash dump would.
final class StatingMemory: PhysicalMemory {
  let base: TestMemory
  let cpuState: CPUState?
  var formatName: String { "stating" }
  var path: String { base.path }
  var fileSize: UInt64 { base.fileSize }
  var ranges: [PhysicalRange] { base.ranges }
  init(_ base: TestMemory, cpu: CPUState?) {
    self.base = base
    self.cpuState = cpu
  }
  func read(at address: UInt64, count: Int) throws(MemoryImageError) -> [UInt8] {
    try base.read(at: address, count: count)
  }
}

@Suite struct StatedAddressSpaceTests {
  @Test func statedRegistersSelectModeAndRoot() throws {
    let memory = X64PagingTests.build().memory()
    // CR4.PAE, EFER.LMA: 4-level; CR3 with PCID bits and bit 63 (no-flush) set.
    let cpu = CPUState(cr3: 0x8000_0000_0000_1000 | 0x3, cr4: 1 << 5, efer: 1 << 10 | 1 << 8)
    let space = try #require(VirtualAddressSpace(statedBy: StatingMemory(memory, cpu: cpu)))
    #expect(space.mode == .x64FourLevel)
    #expect(space.rootTable == 0x1000)
    #expect(try space.translate(x64VA(0, 1, 0, 3)).physical == 0x1_0000)
    #expect(VirtualAddressSpace(statedBy: memory) == nil)
  }

  @Test func levelTables() {
    #expect(PagingMode.x64FourLevel.levels.map(\.name) == ["PML4", "PDPT", "PD", "PT"])
    #expect(PagingMode.x64FiveLevel.levels.map(\.name) == ["PML5", "PML4", "PDPT", "PD", "PT"])
    #expect(PagingMode.x86PAE.levels.map(\.name) == ["PDPT", "PD", "PT"])
    #expect(PagingMode.x86.levels.map(\.name) == ["PD", "PT"])
    // Index bits add up to the virtual width minus the 12 offset bits (SDM figures 4-2, 4-5, 4-8, 4-9).
    #expect(PagingMode.x64FourLevel.levels.reduce(12) { $0 + $1.indexBits } == 48)
    #expect(PagingMode.x64FiveLevel.levels.reduce(12) { $0 + $1.indexBits } == 57)
    #expect(PagingMode.x86PAE.levels.reduce(12) { $0 + $1.indexBits } == 32)
    #expect(PagingMode.x86.levels.reduce(12) { $0 + $1.indexBits } == 32)
    #expect(PagingMode.x86.levels.filter(\.largePageAllowed).map(\.entrySpan) == [0x40_0000])
    #expect(PagingMode.x64FourLevel.levels.filter(\.largePageAllowed).map(\.entrySpan) == [0x4000_0000, 0x20_0000])
  }

  @Test func errorMessagesNameLevelAndEntry() {
    let e = TranslationError.pagedOut(va: 0x7ff6_1234_5000, level: .pt, entry: 0x1234_0000_0080, kind: .pagefile)
    #expect(e.description == "va 0x7ff612345000: PTE (entry 0x123400000080) is paged out (pagefile)")
    let n = TranslationError.notMapped(va: 0x1000, level: .pml4, entryAddress: 0x1af000, entry: 0)
    #expect(n.description == "va 0x1000: PML4E at 0x1af000 (entry 0x0) not present")
    #expect(TranslationError.nonCanonical(va: 0x8000_0000_0000).description.contains("0x800000000000"))
  }
}
