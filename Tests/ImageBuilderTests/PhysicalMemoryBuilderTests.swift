// PhysicalMemoryBuilder: bytes land at their physical addresses in the raw file (read by python),
// LiME headers (python, per LiME's documented header) and ELF program headers (llvm-readobj) match
// the planted ranges, and misuse throws.

import Foundation
import ImageBuilder
import Testing

struct PhysicalMemoryBuilderTests {
  static func sample() throws -> PhysicalMemoryBuilder {
    let memory = try PhysicalMemoryBuilder(size: 0x40_0000, holes: [0xA_0000..<0x10_0000, 0x20_0000..<0x28_0000])
    try memory.write(Array("page-one".utf8), at: 0x1000)
    try memory.writeLE(UInt64(0x1122_3344_5566_7788), at: 0x30_0FFC)  // straddles two pages
    try memory.write([0xAB], at: 0x3F_FFFF)
    return memory
  }

  @Test func rawFileHoldsBytesAtPhysicalAddressesAndIsSparse() throws {
    let memory = try Self.sample()
    let path = try Oracles.temporaryPath("mem.raw")
    try memory.writeRaw(to: path)
    let script = """
      import json, os, struct, sys
      f = open(sys.argv[1], 'rb')
      def at(pa, n): f.seek(pa); return f.read(n)
      st = os.stat(sys.argv[1])
      print(json.dumps({'size': st.st_size, 'allocated': st.st_blocks * 512,
        'one': at(0x1000, 8).decode(), 'q': struct.unpack('<Q', at(0x300ffc, 8))[0],
        'last': at(0x3fffff, 1)[0], 'zero': at(0x2000, 16).hex()}))
      """
    let json = try #require(try Oracles.python(script, [path]) as? [String: Any])
    #expect(json["size"] as? Int == 0x40_0000)
    #expect(json["one"] as? String == "page-one")
    #expect((json["q"] as? NSNumber)?.uint64Value == 0x1122_3344_5566_7788)
    #expect(json["last"] as? Int == 0xAB)
    #expect(json["zero"] as? String == String(repeating: "00", count: 16))
    // Four written pages; a sparse file allocates far less than its 4 MiB length.
    #expect((json["allocated"] as? Int ?? Int.max) < 0x10_0000)
  }

  @Test func limeHeadersDescribeTheBackedRanges() throws {
    let memory = try Self.sample()
    let path = try Oracles.temporaryPath("mem.lime")
    try memory.writeLiME(to: path)
    // LiME header: uint32 magic 0x4C694D45, uint32 version, uint64 s_addr, uint64 e_addr (inclusive), 8 reserved.
    let script = """
      import json, struct, sys
      f = open(sys.argv[1], 'rb'); out = []; off = 0
      while True:
          h = f.read(32)
          if len(h) < 32: break
          magic, ver, s, e = struct.unpack('<IIQQ', h[:24])
          body_at = f.tell(); f.seek(body_at + (e - s + 1))
          out.append({'magic': magic, 'version': ver, 'start': s, 'end': e, 'at': body_at})
      f.seek(out[2]['at'] + (0x300ffc - out[2]['start']))
      print(json.dumps({'ranges': out, 'q': struct.unpack('<Q', f.read(8))[0]}))
      """
    let json = try #require(try Oracles.python(script, [path]) as? [String: Any])
    let ranges = try #require(json["ranges"] as? [[String: Any]])
    #expect(ranges.count == 3)
    #expect(ranges.allSatisfy { $0["magic"] as? Int == 0x4C69_4D45 && $0["version"] as? Int == 1 })
    #expect(ranges.map { $0["start"] as? Int } == [0, 0x10_0000, 0x28_0000])
    #expect(ranges.map { $0["end"] as? Int } == [0x9_FFFF, 0x1F_FFFF, 0x3F_FFFF])
    #expect((json["q"] as? NSNumber)?.uint64Value == 0x1122_3344_5566_7788)
  }

  @Test func elfCoreProgramHeadersDescribeTheBackedRanges() throws {
    let memory = try Self.sample()
    let path = try Oracles.temporaryPath("mem.elf")
    try memory.writeELFCore(to: path)
    let out = try Oracles.readobj(["--file-headers", "--program-headers"], path)
    #expect(out.contains("Type: Core (0x4)"))
    #expect(out.contains("Machine: EM_X86_64 (0x3E)"))
    #expect(out.components(separatedBy: "Type: PT_LOAD").count == 4)
    for (start, size) in [("0x0", 0xA_0000), ("0x100000", 0x10_0000), ("0x280000", 0x18_0000)] {
      #expect(out.contains("PhysicalAddress: \(start)\n    FileSize: \(size)\n    MemSize: \(size)"), "\(start)")
    }
    // The straddling integer, read through the third PT_LOAD's file offset.
    let offsetLine = try #require(
      out.components(separatedBy: "ProgramHeader {").last?.split(separator: "\n").first { $0.contains("Offset:") })
    let offset = try #require(UInt64(offsetLine.split(separator: "0x").last ?? "", radix: 16))
    let handle = try #require(FileHandle(forReadingAtPath: path))
    try handle.seek(toOffset: offset + (0x30_0FFC - 0x28_0000))
    let bytes = try #require(try handle.read(upToCount: 8))
    #expect(Array(bytes) == [0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11])
  }

  @Test func allocatorSkipsReservedWrittenAndHolePages() throws {
    let memory = try PhysicalMemoryBuilder(size: 0x20_0000, holes: [0x10_1000..<0x10_2000], allocationStart: 0x10_0000)
    try memory.write([1], at: 0x10_0000)
    try memory.reserve(0x10_2000, length: 0x1000)
    #expect(try memory.allocatePage() == 0x10_3000)
    #expect(try memory.allocatePage() == 0x10_4000)
    #expect(try memory.allocate(length: 0x2000, alignment: 0x8000) == 0x10_8000)
    #expect(try memory.allocatePage() == 0x10_5000)
  }

  @Test func zeroingAPageMakesItAHoleAgain() throws {
    let memory = try Self.sample()
    try memory.zero(at: 0x1000, count: 0x1000)
    #expect(!memory.writtenPageFrames.contains(1))
    #expect(try memory.read(at: 0x1000, count: 8) == [UInt8](repeating: 0, count: 8))
  }

  @Test func writePastTheEndThrows() throws {
    let memory = try PhysicalMemoryBuilder(size: 0x10_0000)
    #expect(throws: ImageBuilderError.outOfMemory(address: 0xF_FFFF, count: 2, size: 0x10_0000)) {
      try memory.write([1, 2], at: 0xF_FFFF)
    }
  }

  @Test func writeIntoAHoleThrows() throws {
    let memory = try PhysicalMemoryBuilder(size: 0x10_0000, holes: [0xA_0000..<0xC_0000])
    #expect(throws: ImageBuilderError.inHole(address: 0xA_0000)) { try memory.write([1], at: 0xA_0000) }
  }

  @Test func exhaustedAllocatorThrows() throws {
    let memory = try PhysicalMemoryBuilder(size: 0x2000, allocationStart: 0x1000)
    _ = try memory.allocatePage()
    #expect(throws: ImageBuilderError.self) { try memory.allocatePage() }
  }

  @Test func misalignedSizeThrows() {
    #expect(throws: ImageBuilderError.self) { try PhysicalMemoryBuilder(size: 0x1234) }
  }
}
