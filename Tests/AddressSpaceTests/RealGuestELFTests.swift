// The same real-guest truth read through the ELF cores as QEMU wrote them: the image reader gives
// the physical ranges and the CPU note's CR3/CR4, and translation with the CR3 the file itself
// states must reproduce QEMU's own gva2gpa answers and bytes.

import AddressSpace
import BinaryReading
import Foundation
import MemoryImage
import TestData
import Testing

@Suite(.serialized) struct RealGuestELFTests {
  @Test(arguments: ["amd64_4l_kaslr", "amd64_5l_nokaslr", "i386_pae_nokaslr"])
  func truthEntriesThroughELF(_ name: String) throws {
    let truth = try RealGuest.truth(name)
    let image = try MemoryImageOpener.open(path: try TestData.decompressed("realguest/\(name).elf.xz"))
    #expect(image.formatName == "elf-core")
    let mode = try #require(RealGuest.mode(truth["paging_mode"] as? String))
    let cr3 = try #require(TestData.hex(truth["cr3"]))
    // The paging mode and table root come from the file (QEMU's CPU note), not from the truth.
    #expect(image.statedPagingMode == mode)
    let dtb = try #require(image.statedDirectoryTableBase)
    #expect(dtb == cr3 & ~0xfff & ~(1 << 63))
    let space = VirtualAddressSpace(memory: image, dtb: dtb, mode: try #require(image.statedPagingMode))
    let entries = try #require(truth["entries"] as? [[String: Any]])
    #expect(entries.count >= 40)
    for entry in entries {
      let label = entry["symbol"] as? String ?? "?"
      let va = try #require(TestData.hex(entry["va"]))
      let pa = try #require(TestData.hex(entry["pa"]))
      let bytes16 = try #require(entry["bytes16"] as? String)
      #expect(try space.translate(va).physical == pa, "\(name) \(label)")
      let read = try space.read(va, count: 16)
      #expect(read.map { String(format: "%02x", $0) }.joined() == bytes16, "\(name) \(label)")
    }
    let unmapped = try #require(truth["unmapped"] as? [[String: Any]])
    for va in unmapped.compactMap({ TestData.hex($0["va"]) }) {
      #expect(!space.isMapped(va), "\(name) \(Hex.format(va))")
    }
  }
}
