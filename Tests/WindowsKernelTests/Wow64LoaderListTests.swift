// Bad input for the 32-bit loader structures on a small synthetic address space (ImageBuilder page
// tables, one 4 KiB page at 0x10000 below 4 GiB): LIST_ENTRY32 walks that loop, dangle or never end,
// and UNICODE_STRING32s with impossible lengths. Layout facts: LIST_ENTRY32 {Flink u32, Blink u32},
// UNICODE_STRING32 {Length u16, MaximumLength u16, Buffer u32} (winternl shapes, 4-byte pointers).

import AddressSpace
import Foundation
import ImageBuilder
import MemoryImage
import TestData
import Testing
import WindowsKernel

@Suite struct Wow64LoaderListTests {
  static let page: UInt64 = 0x1_0000

  /// An x64 address space mapping one page at `page` holding `words` (u32 at offset → value).
  static func space(_ words: [UInt64: UInt32], bytes: [UInt64: [UInt8]] = [:]) throws -> VirtualAddressSpace {
    let memory = try PhysicalMemoryBuilder(size: 0x40_0000)
    let tables = try PageTableBuilder(memory: memory, format: .x64FourLevel)
    let frame = try memory.allocatePage()
    try tables.map(va: page, pa: frame)
    for (offset, value) in words { try memory.writeLE(value, at: frame + offset) }
    for (offset, b) in bytes { try memory.write(b, at: frame + offset) }
    let directory = try TestData.temporaryDirectory("wow64-ldr")
    let path = directory.appendingPathComponent("space.raw").path
    try memory.writeRaw(to: path)
    let physical = try MemoryImageOpener.open(path: path)
    try? FileManager.default.removeItem(at: directory)  // the file stays mapped
    return VirtualAddressSpace(memory: physical, dtb: tables.root, mode: .x64FourLevel)
  }

  @Test func wellFormedListReturnsToHead() throws {
    let p = UInt32(Self.page)
    let s = try Self.space([0x00: p + 0x40, 0x40: p + 0x80, 0x80: p])
    let walk = ProcessModules.walkList32(space: s, head: Self.page, bound: 10)
    #expect(walk.entries == [Self.page + 0x40, Self.page + 0x80])
    #expect(walk.warning == nil)
  }

  @Test func loopingListStopsAtTheRepeat() throws {
    let p = UInt32(Self.page)
    let s = try Self.space([0x00: p + 0x40, 0x40: p + 0x80, 0x80: p + 0x40])
    let walk = ProcessModules.walkList32(space: s, head: Self.page, bound: 10)
    #expect(walk.entries == [Self.page + 0x40, Self.page + 0x80])
    #expect(walk.warning?.contains("loops back to 0x10040") == true, "\(String(describing: walk.warning))")
  }

  @Test func danglingFlinkDropsTheUnreadableEntry() throws {
    let p = UInt32(Self.page)
    let s = try Self.space([0x00: p + 0x40, 0x40: 0x0BAD_0000])
    let walk = ProcessModules.walkList32(space: s, head: Self.page, bound: 10)
    #expect(walk.entries == [Self.page + 0x40])
    #expect(walk.warning?.contains("link at 0xbad0000 unreadable") == true, "\(String(describing: walk.warning))")
  }

  @Test func listLongerThanTheBoundIsCut() throws {
    let p = UInt32(Self.page)
    var words: [UInt64: UInt32] = [:]
    for i in 0..<20 { words[UInt64(i) * 8] = p + UInt32(i + 1) * 8 }  // 20 links, never back to the head
    let walk = ProcessModules.walkList32(space: try Self.space(words), head: Self.page, bound: 5)
    #expect(walk.entries.count == 5)
    #expect(walk.warning?.contains("more than 5 entries") == true, "\(String(describing: walk.warning))")
  }

  @Test func unicodeString32WithLengthAboveMaximumThrows() throws {
    // Length 0x20 > MaximumLength 0x10.
    let s = try Self.space([0x00: 0x0010_0020, 0x04: UInt32(Self.page) + 0x100])
    #expect(throws: WindowsKernelError.self) { try ProcessModules.readUnicodeString32(in: s, at: Self.page) }
    do {
      _ = try ProcessModules.readUnicodeString32(in: s, at: Self.page)
    } catch {
      #expect("\(error)".contains("UNICODE_STRING32 at 0x10000"))
    }
  }

  @Test func unicodeString32WithUnmappedBufferThrows() throws {
    let s = try Self.space([0x00: 0x0010_0008, 0x04: 0x0BAD_0000])
    #expect(throws: WindowsKernelError.self) { try ProcessModules.readUnicodeString32(in: s, at: Self.page) }
  }

  @Test func unicodeString32ReadsUTF16() throws {
    let text = Array("user32.dll".utf16).flatMap { [UInt8(truncatingIfNeeded: $0), UInt8($0 >> 8)] }
    let s = try Self.space([0x00: 0x0016_0014, 0x04: UInt32(Self.page) + 0x100], bytes: [0x100: text])
    #expect(try ProcessModules.readUnicodeString32(in: s, at: Self.page) == "user32.dll")
  }
}
