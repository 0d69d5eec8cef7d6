// DTB discovery on synthetic memory: the x64 self-map at a random kernel-half index, decoys, 32-bit
// and PAE self-maps, the low stub (valid and pointing outside memory), empty memory.

import AddressSpace
import MemoryImage
import Testing

@Suite struct DTBScannerTests {
  /// An x64 PML4 at `page` mapping itself at `index`, with kernel entries pointing at `targets`.
  static func pml4(_ m: inout MemoryBuilder, at page: UInt64, selfIndex: Int, kernel: [UInt64], user: [UInt64] = []) {
    m.put64(page + UInt64(selfIndex) * 8, page | PTE.prw | PTE.nx)
    for (i, t) in kernel.enumerated() { m.put64(page + UInt64(0x1f0 + i) * 8, t | PTE.prw) }
    for (i, t) in user.enumerated() { m.put64(page + UInt64(i) * 8, t | PTE.prwu) }
  }

  @Test func x64SelfMapAtRandomIndexBeatsDecoys() throws {
    var m = MemoryBuilder(size: 0x10_0000)
    Self.pml4(&m, at: 0x3000, selfIndex: 0x1c0, kernel: [0x6000], user: [0x7000, 0x8000_0000])  // target outside
    Self.pml4(&m, at: 0x4000, selfIndex: 0x050, kernel: [0x6000])  // self-map in the user half: not Windows
    Self.pml4(&m, at: 0x5000, selfIndex: 0x1a3, kernel: [0x6000, 0x7000, 0x8000])
    let candidates = DTBScanner.scan(m.memory())
    let best = try #require(candidates.first)
    #expect(best.dtb == 0x5000 && best.mode == .x64FourLevel && best.selfRefIndex == 0x1a3)
    #expect(best.reason.contains("0x1a3"))
    #expect(candidates.map(\.dtb) == [0x5000, 0x3000])
    #expect(candidates.last?.score ?? .max < best.score)
    #expect(DTBScanner.scan(m.memory(), limit: 1).map(\.dtb) == [0x5000])
  }

  @Test func x86PageDirectoryMapsItselfAt0x300() throws {
    var m = MemoryBuilder(size: 0x10_0000)
    m.put32(0x7000 + 0x300 * 4, 0x7000 | 0x63)
    m.put32(0x7000 + 0x301 * 4, 0x8000 | 0x63)
    m.put32(0x7000 + 0x200 * 4, 0x40_0000 | 0xe3)  // a 4 MiB kernel page
    let best = try #require(DTBScanner.scan(m.memory()).first)
    #expect(best.dtb == 0x7000 && best.mode == .x86 && best.selfRefIndex == 0x300)
    let space = VirtualAddressSpace(memory: m.memory(), dtb: best.dtb, mode: best.mode)
    // 0xC0300000 + 0x300 * 4 is the PDE of 0xC0000000 seen through the self-map: the directory's own page.
    #expect(try space.translate(0xc030_0c00).physical == 0x7c00)
  }

  @Test func paeDirectoryOfC0000000HoldsTheFourDirectories() throws {
    var m = MemoryBuilder(size: 0x10_0000)
    let pds: [UInt64] = [0xa000, 0xb000, 0xc000, 0x9000]
    for (i, pd) in pds.enumerated() {
      m.put64(0x9000 + UInt64(i) * 8, pd | 0x63)  // PD3 entries 0..3 → PD0..PD3
      m.put64(0xd040 + UInt64(i) * 8, pd | 0x1)  // the PDPT, 32-byte aligned inside a page
    }
    m.put64(0xa000, 0xe000 | 0x63)  // something mapped at VA 0
    let best = try #require(DTBScanner.scan(m.memory()).first)
    #expect(best.dtb == 0xd040 && best.mode == .x86PAE && best.selfRefIndex == 3)
    let space = VirtualAddressSpace(memory: m.memory(), dtb: best.dtb, mode: .x86PAE)
    // PDEs appear at 0xC0600000: the first page there is PD0.
    #expect(try space.translate(0xc060_0000).physical == 0xa000)
    #expect(try space.translate(0xc000_0000).physical == 0xe000)
  }

  /// A low stub at 0x2000: `E9 xx 06 00 01 00 00 00`, LmTarget at +0x70, Cr3 at +0xA0.
  static func lowStub(_ m: inout MemoryBuilder, cr3: UInt64) {
    m.put64(0x2000, 0x0000_0001_0006_4de9)
    m.put64(0x2070, 0xffff_f803_1234_5670)
    m.put64(0x20a0, cr3)
  }

  @Test func lowStubIsTheStrongestSignal() throws {
    var m = MemoryBuilder(size: 0x20_0000)
    Self.pml4(&m, at: 0x3000, selfIndex: 0x1c0, kernel: [0x6000])  // an earlier, valid self-map
    Self.pml4(&m, at: 0x15_0000, selfIndex: 0x1ed, kernel: [0x6000, 0x7000])
    Self.lowStub(&m, cr3: 0x15_0000)
    let candidates = DTBScanner.scan(m.memory())
    let best = try #require(candidates.first)
    #expect(best.dtb == 0x15_0000 && best.selfRefIndex == 0x1ed && best.score > 1000)
    #expect(best.reason.contains("low stub at 0x2000"))
    let stub = try #require(DTBScanner.lowStub(m.memory()))
    #expect(stub.stub == 0x2000 && stub.cr3 == 0x15_0000 && stub.lmTarget == 0xffff_f803_1234_5670)
  }

  @Test func lowStubPointingOutsideMemoryIsIgnored() throws {
    var m = MemoryBuilder(size: 0x10_0000)
    Self.pml4(&m, at: 0x5000, selfIndex: 0x1a3, kernel: [0x6000])
    Self.lowStub(&m, cr3: 0x40_0000_0000)
    let candidates = DTBScanner.scan(m.memory())
    #expect(candidates.map(\.dtb) == [0x5000])
    #expect(candidates.allSatisfy { !$0.reason.contains("low stub") })
  }

  @Test func lowStubWithBadSignatureIsIgnored() {
    var m = MemoryBuilder(size: 0x10_0000)
    Self.lowStub(&m, cr3: 0x5000)
    m.put64(0x2070, 0x0000_7ff8_1234_5670)  // LmTarget not a kernel address
    #expect(DTBScanner.lowStub(m.memory()) == nil)
  }

  @Test func emptyAndZeroMemoryHaveNoCandidates() {
    #expect(DTBScanner.scan(TestMemory([])).isEmpty)
    #expect(DTBScanner.scan(MemoryBuilder(size: 0x4_0000).memory()).isEmpty)
  }

  @Test func tablesWithTargetsOutsideMemoryAreRejected() {
    var m = MemoryBuilder(size: 0x10_0000)
    Self.pml4(&m, at: 0x5000, selfIndex: 0x1a3, kernel: [0x10_0000_0000, 0x20_0000_0000, 0x30_0000_0000])
    #expect(DTBScanner.scan(m.memory()).isEmpty)
  }

  /// A page table mapping 512 consecutive frames (a direct map) includes itself, but is no PML4.
  @Test func directMapPageTableIsNotARoot() {
    var m = MemoryBuilder(size: 0x40_0000)
    for i in 0..<512 { m.put64(0x20_0000 + UInt64(i) * 8, (0x10_0000 + UInt64(i) * 0x1000) | PTE.prw | PTE.nx) }
    #expect(DTBScanner.scan(m.memory()).isEmpty)
  }

  /// A directory of 2 MiB pages (PS set) that happens to contain its own frame is rejected too.
  @Test func largePageDirectoryIsNotARoot() {
    var m = MemoryBuilder(size: 0x40_0000)
    m.put64(0x20_0000 + 0x1a0 * 8, 0x20_0000 | PTE.prw)
    m.put64(0x20_0000 + 0x1f0 * 8, 0x20_0000 | PTE.prw | PTE.ps)
    #expect(DTBScanner.scan(m.memory()).isEmpty)
  }
}
