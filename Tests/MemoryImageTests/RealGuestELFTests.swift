// QEMU 7.2 `dump-guest-memory` captures of real Debian guests (../shared/realguest): the reader's
// control registers, paging mode, ranges and bytes against the truth QEMU itself reported.

import Foundation
import MemoryImage
import TestData
import Testing

@Suite("Real QEMU ELF cores")
struct RealGuestELFTests {
  static let cases: [(name: String, mode: PagingMode)] = [
    ("amd64_4l_kaslr", .x64FourLevel), ("amd64_5l_nokaslr", .x64FiveLevel), ("i386_pae_nokaslr", .x86PAE),
  ]

  @Test("registers, paging mode, ranges and truth bytes", arguments: 0..<3)
  func realGuest(_ index: Int) throws {
    let (name, expectedMode) = Self.cases[index]
    let path = try TestData.decompressed("realguest/\(name).elf.xz")
    let truthAny = try TestData.json(TestData.shared("realguest/\(name).truth.json").path)
    let truth = try #require(truthAny as? [String: Any])
    let image = try MemoryImageOpener.open(path: path)
    #expect(image.formatName == "elf-core")

    let cpu = try #require(image.cpuState)
    #expect(cpu.cr3 == TestData.hex(truth["cr3"]))
    #expect(cpu.cr4 == TestData.hex(truth["cr4"]))
    #expect(cpu.cr0 == TestData.hex(truth["cr0"]))
    #expect(cpu.efer == nil)  // QEMUCPUState carries no EFER
    let truthMode: PagingMode? =
      switch truth["paging_mode"] as? String {
      case "4level": .x64FourLevel
      case "5level": .x64FiveLevel
      case "pae": .x86PAE
      default: nil
      }
    #expect(truthMode == expectedMode)
    #expect(image.statedPagingMode == truthMode)
    let cr3 = try #require(TestData.hex(truth["cr3"]))
    let root = expectedMode == .x86PAE ? cr3 & 0xFFFF_FFE0 : cr3 & 0x000F_FFFF_FFFF_F000
    #expect(image.statedDirectoryTableBase == root)

    let ram = try #require((truth["ram_bytes"] as? NSNumber)?.uint64Value)
    #expect(
      image.ranges == [PhysicalRange(start: 0, length: ram), PhysicalRange(start: 0xFFFC_0000, length: 0x4_0000)])

    let entries = try #require(truth["entries"] as? [[String: Any]])
    #expect(entries.count > 10)
    for entry in entries {
      let pa = try #require(TestData.hex(entry["pa"]))
      let expected = try #require(entry["bytes16"] as? String)
      let bytes = try image.read(at: pa, count: 16)
      #expect(bytes.map { String(format: "%02x", $0) }.joined() == expected, "pa \(String(pa, radix: 16))")
    }
    // Between RAM and the BIOS there is nothing.
    #expect(throws: MemoryImageError.self) { try image.read(at: ram, count: 1) }
    #expect(throws: MemoryImageError.self) { try image.readUInt64(at: ram - 4) }
  }
}
