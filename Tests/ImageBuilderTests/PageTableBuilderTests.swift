// PageTableBuilder: tables written for each paging mode are walked by an independent python walker
// (Intel SDM vol. 3A ch. 4) over the raw file; the self-map entries are where Windows puts them;
// software PTE bit positions are checked against the bitfields of the public ntkrnlmp.pdb (ISF).

import Foundation
import ImageBuilder
import TestData
import Testing

struct PageTableBuilderTests {
  /// Writes the memory out and asks the python walker to translate `vas`; returns va → pa (nil = unmapped).
  static func walk(_ memory: PhysicalMemoryBuilder, mode: String, cr3: UInt64, _ vas: [UInt64]) throws -> [UInt64?] {
    let path = try Oracles.temporaryPath("pt.raw")
    try memory.writeRaw(to: path)
    let script =
      Oracles.pythonWalker + """

        f = open(sys.argv[1], 'rb')
        vas = [int(x, 16) for x in sys.argv[4:]]
        print(json.dumps([translate(f, sys.argv[2], int(sys.argv[3], 16), va) for va in vas]))
        """
    let args = [path, mode, String(cr3, radix: 16)] + vas.map { String($0, radix: 16) }
    let json = try #require(try Oracles.python(script, args) as? [Any])
    return json.map { ($0 as? NSNumber)?.uint64Value }
  }

  @Test func x64FourLevelMapsAllPageSizes() throws {
    let memory = try PhysicalMemoryBuilder(size: 0x100_0000)
    let tables = try PageTableBuilder(memory: memory, format: .x64FourLevel, selfMap: .index(0x1B3))
    try tables.map(va: 0xFFFF_F803_4560_0000, pa: 0x60_0000, size: .size2M)
    try tables.map(va: 0xFFFF_F803_4580_0000, pa: 0x7_3000, flags: [.noExecute])
    try tables.map(va: 0x0000_7FF6_1234_5000, pa: 0x9_1000, flags: [.user])
    try tables.map(va: 0xFFFF_C000_0000_0000, pa: 0x4000_0000, size: .size1G)  // beyond memory: only the entry
    let vas: [UInt64] = [
      0xFFFF_F803_4567_89AB, 0xFFFF_F803_4580_0123, 0x0000_7FF6_1234_5FFF, 0xFFFF_C000_1234_5678, 0xFFFF_F803_4580_1000,
    ]
    let pas = try Self.walk(memory, mode: "x64-4level", cr3: tables.root, vas)
    #expect(pas == [0x67_89AB, 0x7_3123, 0x9_1FFF, 0x5234_5678, nil])
    // The self-map: PML4[0x1B3] holds the root itself; PTE_BASE is the sign-extended slot address.
    let entry = try memory.readLE(UInt64.self, at: tables.root + 0x1B3 * 8)
    #expect(entry & 0x000F_FFFF_FFFF_F000 == tables.root)
    #expect(entry & 1 == 1)
    #expect(tables.pageTableBase == 0xFFFF_D980_0000_0000)
  }

  @Test func x64FiveLevelMapsThroughPML5() throws {
    let memory = try PhysicalMemoryBuilder(size: 0x80_0000)
    let tables = try PageTableBuilder(memory: memory, format: .x64FiveLevel)
    try tables.map(va: 0xFF12_3456_7800_0000, pa: 0x20_0000, size: .size2M)
    try tables.map(va: 0x0001_2345_6789_A000, pa: 0x5000)
    let pas = try Self.walk(
      memory, mode: "x64-5level", cr3: tables.root, [0xFF12_3456_7812_3456, 0x0001_2345_6789_A010])
    #expect(pas == [0x32_3456, 0x5010])
  }

  @Test func x86PAEMapsAndSelfMapsTheFourDirectories() throws {
    let memory = try PhysicalMemoryBuilder(size: 0x80_0000)
    let tables = try PageTableBuilder(memory: memory, format: .x86PAE)
    try tables.map(va: 0x8040_0000, pa: 0x40_0000, size: .size2M)
    try tables.map(va: 0x7FFE_0000, pa: 0x3000, flags: [.user, .noExecute])
    // Windows' PAE self-map: PTEs at 0xC0000000, PDEs at 0xC0600000, so 0xC0600000 + 8·(va >> 21) is the PDE of va.
    let pdeOfKernelVA: UInt64 = 0xC060_0000 + 8 * (0x8040_0000 >> 21)
    let pas = try Self.walk(memory, mode: "x86-pae", cr3: tables.root, [0x8041_2345, 0x7FFE_0123, pdeOfKernelVA])
    #expect(pas[0] == 0x41_2345)
    #expect(pas[1] == 0x3123)
    let pdePhysical = try #require(pas[2])
    let pde = try memory.readLE(UInt64.self, at: pdePhysical)
    #expect(pde & 0x000F_FFFF_FFE0_0000 == 0x40_0000)
    #expect(pde & 0x80 != 0)
    #expect(tables.pageTableBase == 0xC000_0000)
  }

  @Test func x86NonPAEMapsAndSelfMapsAtPDE0x300() throws {
    let memory = try PhysicalMemoryBuilder(size: 0x80_0000)
    let tables = try PageTableBuilder(memory: memory, format: .x86)
    try tables.map(va: 0x8040_0000, pa: 0x40_0000, size: .size4M)
    try tables.map(va: 0x0001_0000, pa: 0x7000)
    // PDE_BASE 0xC0300000: the PD seen through itself; its entry 0x300 is the PD's own frame.
    let pas = try Self.walk(memory, mode: "x86", cr3: tables.root, [0x8041_2345, 0x0001_0FFF, 0xC030_0C00])
    #expect(pas == [0x41_2345, 0x7FFF, tables.root + 0xC00])
    #expect(try memory.readLE(UInt32.self, at: tables.root + 0x300 * 4) & 0xFFFF_F000 == UInt32(tables.root))
  }

  @Test func softwarePTEBitsMatchTheKernelPDBBitfields() throws {
    let isf = TestData.shared("data/isf/ntkrnlmp.pdb/3177D31000BA7590DED335936C93E374-1.json.xz").path
    let script = """
      import json, lzma, sys
      t = json.load(lzma.open(sys.argv[1]))['user_types']
      def bits(s, f):
          ty = t[s]['fields'][f]['type']; return [ty['bit_position'], ty['bit_length']]
      print(json.dumps({'tr': bits('_MMPTE_TRANSITION', 'Transition'), 'pfn': bits('_MMPTE_TRANSITION', 'PageFrameNumber'),
        'proto': bits('_MMPTE_PROTOTYPE', 'Prototype'), 'addr': bits('_MMPTE_PROTOTYPE', 'ProtoAddress'),
        'prot': bits('_MMPTE_SOFTWARE', 'Protection'), 'low': bits('_MMPTE_SOFTWARE', 'PageFileLow'),
        'high': bits('_MMPTE_SOFTWARE', 'PageFileHigh')}))
      """
    let json = try #require(try Oracles.python(script, [isf]) as? [String: [Int]])
    func field(_ value: UInt64, _ name: String) throws -> UInt64 {
      let spec = try #require(json[name])
      let mask: UInt64 = spec[1] == 64 ? ~0 : (1 << UInt64(spec[1])) - 1
      return (value >> UInt64(spec[0])) & mask
    }
    let transition = try SoftwarePTE.transition(pageFrame: 0x12_3456, protection: 4).encoded()
    #expect(try field(transition, "tr") == 1)
    #expect(try field(transition, "pfn") == 0x12_3456)
    #expect(try field(transition, "prot") == 4)
    #expect(transition & 1 == 0)
    let prototype = try SoftwarePTE.prototype(prototypeAddress: 0xFFFF_A001_2345_6780).encoded()
    #expect(try field(prototype, "proto") == 1)
    #expect(try field(prototype, "addr") == 0xA001_2345_6780)
    let pageFile = try SoftwarePTE.pageFile(pageFile: 2, pageOffset: 0xABCDE, protection: 4).encoded()
    #expect(try field(pageFile, "low") == 2)
    #expect(try field(pageFile, "high") == 0xABCDE)
    #expect(try field(pageFile, "tr") == 0)
    #expect(try field(pageFile, "proto") == 0)
  }

  @Test func softwareEntriesLandInTheLeafTable() throws {
    let memory = try PhysicalMemoryBuilder(size: 0x40_0000)
    let tables = try PageTableBuilder(memory: memory, format: .x64FourLevel)
    let va: UInt64 = 0xFFFF_A000_0000_3000
    try tables.map(va: va - 0x1000, pa: 0x9000)
    let pte = try SoftwarePTE.pageFile(pageFile: 1, pageOffset: 0x42).encoded()
    try tables.setSoftwareEntry(va: va, pte)
    // The PT holding va's neighbour holds the software entry one slot later.
    let neighbourPT = try memory.readLE(UInt64.self, at: try Self.leafTable(memory, root: tables.root, va: va))
    #expect(neighbourPT == pte)
    #expect(throws: ImageBuilderError.notMapped(va: va, level: "PT")) { try tables.translate(va) }
  }

  /// Physical address of va's PT entry, by hand (SDM 4.5): PML4 → PDPT → PD → PT.
  static func leafTable(_ memory: PhysicalMemoryBuilder, root: UInt64, va: UInt64) throws -> UInt64 {
    var table = root
    for shift: UInt64 in [39, 30, 21] {
      table = try memory.readLE(UInt64.self, at: table + ((va >> shift) & 0x1FF) * 8) & 0x000F_FFFF_FFFF_F000
    }
    return table + ((va >> 12) & 0x1FF) * 8
  }

  @Test func nonCanonicalAddressThrows() throws {
    let tables = try PageTableBuilder(memory: try PhysicalMemoryBuilder(size: 0x20_0000), format: .x64FourLevel)
    #expect(throws: ImageBuilderError.self) { try tables.map(va: 0x0000_8000_0000_0000, pa: 0x1000) }
  }

  @Test func misalignedLargePageThrows() throws {
    let tables = try PageTableBuilder(memory: try PhysicalMemoryBuilder(size: 0x20_0000), format: .x64FourLevel)
    #expect(throws: ImageBuilderError.self) { try tables.map(va: 0xFFFF_F800_0010_0000, pa: 0, size: .size2M) }
  }

  @Test func mappingTwiceThrowsConflict() throws {
    let tables = try PageTableBuilder(memory: try PhysicalMemoryBuilder(size: 0x40_0000), format: .x64FourLevel)
    try tables.map(va: 0xFFFF_F800_0020_0000, pa: 0x20_0000, size: .size2M)
    #expect(throws: ImageBuilderError.self) { try tables.map(va: 0xFFFF_F800_0020_1000, pa: 0x1000) }
    #expect(throws: ImageBuilderError.self) { try tables.map(va: 0xFFFF_F800_0020_0000, pa: 0x20_0000, size: .size2M) }
  }

  @Test func pageSizeTheModeLacksThrows() throws {
    let memory = try PhysicalMemoryBuilder(size: 0x80_0000)
    let x86 = try PageTableBuilder(memory: memory, format: .x86)
    #expect(throws: ImageBuilderError.self) { try x86.map(va: 0x40_0000, pa: 0x40_0000, size: .size2M) }
    let pae = try PageTableBuilder(memory: memory, format: .x86PAE)
    #expect(throws: ImageBuilderError.self) { try pae.map(va: 0x4000_0000, pa: 0x4000_0000, size: .size1G) }
  }
}
