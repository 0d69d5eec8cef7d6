// Synthetic ELF32/ELF64 cores (QEMU and VirtualBox CPU notes), LiME files with several ranges,
// VMware .vmem with and without a .vmss region table, and raw files.

import Foundation
import MemoryImage
import TestData
import Testing

@Suite("ELF, LiME, VMware and raw readers")
struct SmallFormatTests {
  @Test("ELF32 core (EM_386, QEMU note without PAE): ranges, bytes, x86 paging")
  func elf32() throws {
    let low = Fixtures.page(0) + Fixtures.page(1)
    let high = Fixtures.page(0x100)
    let bytes = ELFBuilder.core(
      is64: false, machine: 3, loads: [.init(paddr: 0x0010_0000, data: high), .init(paddr: 0, data: low)],
      notes: [("QEMU", 0, ELFBuilder.qemuNote(cr0: 0x8000_0011, cr3: 0x0039_d000, cr4: 0x10))])
    let path = try Fixtures.write(bytes, name: "core32.elf")
    let image = try MemoryImageOpener.open(path: path)
    #expect(image.formatName == "elf-core")
    #expect(image.ranges == [.init(start: 0, length: 0x2000), .init(start: 0x0010_0000, length: 0x1000)])
    #expect(try image.read(at: 0x0FF8, count: 16) == Array(low[0xFF8..<0x1008]))
    #expect(try image.read(at: 0x0010_0000, count: 0x1000) == high)
    #expect(image.cpuState == CPUState(cr0: 0x8000_0011, cr3: 0x0039_d000, cr4: 0x10))
    #expect(image.statedPagingMode == .x86)
    #expect(image.statedDirectoryTableBase == 0x0039_d000)
    #expect(throws: MemoryImageError.self) { try image.read(at: 0x2000, count: 1) }
  }

  @Test("ELF64 core with a VirtualBox VBCPU note: EFER.LMA gives long mode")
  func vbox() throws {
    let bytes = ELFBuilder.core(
      is64: true, machine: 62, loads: [.init(paddr: 0x1000, data: Fixtures.page(1))],
      notes: [
        ("VBCORE", 0xB00, [UInt8](repeating: 0, count: 24)),
        (
          "VBCPU", 0xB01,
          ELFBuilder.vboxNote(cr0: 0x8005_0033, cr3: 0x8000_0000_01AA_D002, cr4: 0x0020_06F8, efer: 0xD01)
        ),
      ])
    let image = try MemoryImageOpener.open(path: try Fixtures.write(bytes, name: "vbox.elf"))
    #expect(image.cpuState?.efer == 0xD01)
    #expect(image.cpuState?.cr3 == 0x8000_0000_01AA_D002)
    #expect(image.statedPagingMode == .x64FourLevel)
    #expect(image.statedDirectoryTableBase == 0x01AA_D000)
    #expect(
      try image.readUInt32(at: 0x1004)
        == UInt32(littleEndian: Fixtures.page(1)[4..<8].withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }))
  }

  @Test("ELF64 with PN_XNUM: the program-header count comes from section header 0's sh_info")
  func pnXNum() throws {
    var b = Bytes(count: 0)
    b.data = ELFBuilder.core(
      is64: true, machine: 62, loads: [.init(paddr: 0x2000, data: Fixtures.page(2))],
      notes: [("QEMU", 0, ELFBuilder.qemuNote(cr0: 0x8000_0011, cr3: 0x5000, cr4: 0x1020))])
    let shoff = b.data.count
    b.put(UInt16(0xFFFF), at: 0x38)  // e_phnum = PN_XNUM
    b.put(UInt64(shoff), at: 0x28)  // e_shoff
    b.put(UInt16(64), at: 0x3A)  // e_shentsize
    b.put(UInt16(1), at: 0x3C)  // e_shnum
    b.put(UInt32(2), at: shoff + 0x2C)  // sh_info of section header 0 = real count (note + load)
    b.put(UInt64(0), at: shoff + 0x38)
    let image = try MemoryImageOpener.open(path: try Fixtures.write(b.data, name: "xnum.elf"))
    #expect(image.ranges == [.init(start: 0x2000, length: 0x1000)])
    #expect(image.statedPagingMode == .x64FiveLevel)
    #expect(image.statedDirectoryTableBase == 0x5000)
    // GNU readelf honours PN_XNUM (this llvm-readobj does not): it must see the same two headers.
    let readelf = try TestData.run(try Fixtures.tool("readelf"), ["-l", "-W", image.path])
    #expect(readelf.stdout.contains("There are 2 program headers"), "\(readelf.stdout)")
    #expect(readelf.stdout.contains("0x0000000000002000 0x001000"), "\(readelf.stdout)")
  }

  @Test("LiME with three ranges, against Volatility 3's LimeLayer")
  func lime() throws {
    let ranges: [(start: UInt64, data: [UInt8])] = [
      (0, Fixtures.page(0) + Fixtures.page(1)), (0x5000, Fixtures.page(5)),
      (0x9000, Fixtures.page(9) + Fixtures.page(10)),
    ]
    let path = try Fixtures.write(LiMEBuilder.image(ranges), name: "mem.lime")
    let image = try MemoryImageOpener.open(path: path)
    #expect(image.formatName == "lime")
    #expect(image.ranges.count == 3)
    let oracle = try Oracles.volatility("lime", path, maxPage: 16)
    var ours: [UInt64] = []
    for pfn in UInt64(0)..<16 where image.isBacked(pfn * 0x1000) {
      ours.append(pfn)
      #expect(try image.read(at: pfn * 0x1000, count: 0x1000) == oracle.pages[pfn])
    }
    #expect(ours == oracle.present)
    #expect(ours == [0, 1, 5, 9, 10])
  }

  @Test("VMware .vmem with a .vmss region table (memory above a hole), against Volatility 3")
  func vmemWithState() throws {
    let dir = try TestData.temporaryDirectory("vmware")
    let vmem = dir.appendingPathComponent("guest.vmem").path
    let pages = (0..<6).map { Fixtures.page(UInt64($0), salt: 0x33) }.flatMap { $0 }
    try Data(pages).write(to: URL(fileURLWithPath: vmem))
    // vmem pages 0-3 are guest pages 0-3; vmem pages 4-5 are guest pages 0x10-0x11.
    let state = VMSSBuilder.state(regions: [(0, 0, 4), (0x10, 4, 2)])
    try Data(state).write(to: dir.appendingPathComponent("guest.vmss"))
    let image = try MemoryImageOpener.open(path: vmem)
    #expect(image.formatName == "vmem")
    #expect(image.ranges == [.init(start: 0, length: 0x4000), .init(start: 0x10000, length: 0x2000)])
    let oracle = try Oracles.volatility(
      "vmware", vmem, meta: dir.appendingPathComponent("guest.vmss").path, maxPage: 32)
    #expect(oracle.present == [0, 1, 2, 3, 0x10, 0x11])
    for pfn in oracle.present { #expect(try image.read(at: pfn * 0x1000, count: 0x1000) == oracle.pages[pfn]) }
  }

  @Test("raw and .vmem without companion: file offset = physical address, any size")
  func raw() throws {
    let bytes = Array((Fixtures.page(0) + Fixtures.page(1)).prefix(0x1234))
    for name in ["plain.raw", "lonely.vmem"] {
      let image = try MemoryImageOpener.open(path: try Fixtures.write(bytes, name: name))
      #expect(image.formatName == "raw")
      #expect(image.ranges == [.init(start: 0, length: 0x1234)])
      #expect(try image.read(at: 0x1230, count: 4) == Array(bytes[0x1230...]))
      #expect(throws: MemoryImageError.self) { try image.read(at: 0x1231, count: 4) }
    }
  }
}
