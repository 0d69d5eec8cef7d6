// Hostile input: one test per malformed structure, each expecting a clear thrown error that names
// the file, the offset (hex) and what was expected — never a crash or a hang. Plus a seeded
// mutate-and-open loop over every format.

import Foundation
import ImageBuilder
import MemoryImage
import TestData
import Testing

@Suite("Bad input")
struct BadInputTests {
  enum Kind { case corrupt, unknown, unsupported }

  /// Opens `bytes` (written as `name`) and checks the error's kind, offset and message.
  func expectFailure(
    _ bytes: [UInt8], name: String, _ kind: Kind, offset: UInt64? = nil, mentions: [String],
    sourceLocation: SourceLocation = #_sourceLocation
  ) throws {
    let path = try Fixtures.write(bytes, name: name)
    do {
      let image = try MemoryImageOpener.open(path: path)
      Issue.record("opened as \(image.formatName), expected an error", sourceLocation: sourceLocation)
    } catch {
      let text = error.description
      #expect(text.contains(name), "message names the file: \(text)", sourceLocation: sourceLocation)
      for m in mentions { #expect(text.contains(m), "message mentions \(m): \(text)", sourceLocation: sourceLocation) }
      switch (kind, error) {
      case (.corrupt, .corrupt(_, let at, _)):
        if let offset { #expect(at == offset, "offset of \(text)", sourceLocation: sourceLocation) }
        #expect(text.contains("0x"), sourceLocation: sourceLocation)
      case (.unknown, .unknownFormat), (.unsupported, .unsupported): break
      default: Issue.record("unexpected error kind: \(text)", sourceLocation: sourceLocation)
      }
    }
  }

  static func patched(_ bytes: [UInt8], _ edits: (inout Bytes) -> Void) -> [UInt8] {
    var b = Bytes(count: 0)
    b.data = bytes
    edits(&b)
    return b.data
  }

  static let elf64 = ELFBuilder.core(
    is64: true, machine: 62,
    loads: [.init(paddr: 0, data: Fixtures.page(0)), .init(paddr: 0x4000, data: Fixtures.page(4))],
    notes: [("QEMU", 0, ELFBuilder.qemuNote(cr0: 0x8000_0011, cr3: 0x1000, cr4: 0x20))])
  static let elf32 = ELFBuilder.core(
    is64: false, machine: 3, loads: [.init(paddr: 0, data: Fixtures.page(0))], notes: [])
  // Program headers: ELF64 at 64 + 56·i (note first, then loads); ELF32 at 52 + 32·i.

  @Test func emptyFile() throws {
    try expectFailure([], name: "empty.img", .unknown, mentions: ["empty", "0x0"])
  }

  @Test func truncatedCrashDumpHeader() throws {
    let bytes = Array("PAGEDU64".utf8) + [UInt8](repeating: 0, count: 0x100)
    try expectFailure(bytes, name: "short.dmp", .corrupt, offset: 0, mentions: ["DUMP_HEADER64", "8192"])
  }

  @Test func truncated32BitCrashDumpHeader() throws {
    let bytes = Array(DumpBuilder.full(is64: false, runs: [(0, 1)]).prefix(0x800))
    try expectFailure(bytes, name: "short32.dmp", .corrupt, offset: 0, mentions: ["DUMP_HEADER32", "4096"])
  }

  @Test func wrongValidDumpMagic() throws {
    let bytes = Self.patched(DumpBuilder.full(is64: true, runs: [(0, 1)])) { $0.put(Array("XXXX".utf8), at: 4) }
    try expectFailure(bytes, name: "magic.dmp", .corrupt, offset: 4, mentions: ["ValidDump", "DU64"])
  }

  @Test func wrongMagicInSecondLiMEHeader() throws {
    let bytes = Self.patched(LiMEBuilder.image([(0, Fixtures.page(0)), (0x2000, Fixtures.page(2))])) {
      $0.put(UInt32(0x1234_5678), at: 0x1020)
    }
    try expectFailure(bytes, name: "magic.lime", .corrupt, offset: 0x1020, mentions: ["magic", "0x4c694d45"])
  }

  @Test func crashDumpRunPastEndOfFile() throws {
    // Header promises 3 pages, the file holds 1.
    let bytes = Self.patched(DumpBuilder.full(is64: true, runs: [(0, 1)])) { $0.put(UInt64(3), at: 0xA0) }
    try expectFailure(bytes, name: "runs.dmp", .corrupt, offset: 0x98, mentions: ["run 0", "past end of file"])
  }

  @Test func absurdRunCount() throws {
    let bytes = Self.patched(DumpBuilder.full(is64: true, runs: [(0, 1)])) { $0.put(UInt32(100_000), at: 0x88) }
    try expectFailure(bytes, name: "count.dmp", .corrupt, offset: 0x88, mentions: ["NumberOfRuns", "100000", "42"])
  }

  @Test func runPageCountOverflow() throws {
    let bytes = Self.patched(DumpBuilder.full(is64: true, runs: [(0, 1)])) { $0.put(UInt64(1) << 62, at: 0xA0) }
    try expectFailure(bytes, name: "overflow.dmp", .corrupt, offset: 0x98, mentions: ["overflows"])
  }

  @Test func unknownDumpType() throws {
    let bytes = Self.patched(DumpBuilder.full(is64: true, runs: [(0, 1)])) { $0.put(UInt32(77), at: 0xF98) }
    try expectFailure(bytes, name: "type.dmp", .corrupt, offset: 0xF98, mentions: ["DumpType is 77"])
  }

  @Test func miniDumpTypeIsUnsupported() throws {
    let bytes = Self.patched(DumpBuilder.full(is64: true, runs: [(0, 1)])) { $0.put(UInt32(4), at: 0xF98) }
    try expectFailure(bytes, name: "mini.dmp", .unsupported, mentions: ["mini dump"])
  }

  @Test func bitmapLargerThanFile() throws {
    let bytes = Self.patched(DumpBuilder.bitmap(is64: true, dumpType: 5, signature: "SDMP", present: [1], bitCount: 64))
    {
      $0.put(UInt64(1) << 40, at: 0x2030)
    }
    try expectFailure(bytes, name: "bitmap.dmp", .corrupt, offset: 0x2038, mentions: ["bitmap", "file ends"])
  }

  @Test func bitmapPagesPastEndOfFile() throws {
    let full = DumpBuilder.bitmap(is64: true, dumpType: 5, signature: "FDMP", present: [1, 2, 3], bitCount: 64)
    try expectFailure(Array(full.dropLast(0x1000)), name: "pages.dmp", .corrupt, mentions: ["file ends"])
  }

  @Test func badSummarySignature() throws {
    let bytes = Self.patched(DumpBuilder.bitmap(is64: true, dumpType: 5, signature: "SDMP", present: [1], bitCount: 64))
    {
      $0.put(Array("ABCD".utf8), at: 0x2000)
    }
    try expectFailure(bytes, name: "sdmp.dmp", .corrupt, offset: 0x2000, mentions: ["'SDMP' or 'FDMP'"])
  }

  @Test func rdmpRangePastEndOfFile() throws {
    let bytes = Self.patched(DumpBuilder.rdmp(dumpType: 8, ranges: [(2, 1)])) { $0.put(UInt64(500), at: 0x2038) }
    try expectFailure(
      bytes, name: "rdmp.dmp", .corrupt, offset: 0x2030, mentions: ["RDMP range 0", "past end of file"])
  }

  @Test func rdmpBadMarker() throws {
    let bytes = Self.patched(DumpBuilder.rdmp(dumpType: 10, ranges: [(2, 1)])) { $0.put(UInt32(0x41), at: 0x2000) }
    try expectFailure(bytes, name: "marker.dmp", .corrupt, offset: 0x2000, mentions: ["'RDMP'"])
  }

  @Test func elfSegmentsOverlap() throws {
    // Second load's p_paddr (program header 2) moved onto the first.
    let bytes = Self.patched(Self.elf64) { $0.put(UInt64(0x800), at: 64 + 56 * 2 + 0x18) }
    try expectFailure(bytes, name: "overlap.elf", .corrupt, offset: 64 + 56 * 2, mentions: ["overlaps"])
  }

  @Test func elfSegmentPastEndOfFile() throws {
    let bytes = Self.patched(Self.elf64) { $0.put(UInt64(0x10_0000), at: 64 + 56 * 2 + 0x20) }
    try expectFailure(bytes, name: "past.elf", .corrupt, offset: 64 + 56 * 2, mentions: ["PT_LOAD 2", "file ends"])
  }

  @Test func elfProgramHeaderTablePastEndOfFile() throws {
    let bytes = Self.patched(Self.elf64) { $0.put(UInt16(5000), at: 0x38) }
    try expectFailure(bytes, name: "phnum.elf", .corrupt, offset: 64, mentions: ["program-header table", "5000"])
  }

  @Test func elfNoteRunsPastItsSegment() throws {
    // n_namesz of the first note (PT_NOTE data right after 3 program headers).
    let bytes = Self.patched(Self.elf64) { $0.put(UInt32(0x10_0000), at: 64 + 56 * 3) }
    try expectFailure(bytes, name: "note.elf", .corrupt, offset: 64 + 56 * 3, mentions: ["note"])
  }

  @Test func elf32HeaderTruncated() throws {
    try expectFailure(
      Array(Self.elf32.prefix(40)), name: "short32.elf", .corrupt, offset: 0, mentions: ["ELF32 header", "0x28"])
  }

  @Test func elf64HeaderTruncated() throws {
    try expectFailure(
      Array(Self.elf64.prefix(50)), name: "short64.elf", .corrupt, offset: 0, mentions: ["ELF64 header", "0x32"])
  }

  @Test func elfBadClass() throws {
    let bytes = Self.patched(Self.elf64) { $0.put(UInt8(9), at: 4) }
    try expectFailure(bytes, name: "class.elf", .corrupt, offset: 4, mentions: ["EI_CLASS"])
  }

  @Test func elfWithoutLoadSegments() throws {
    let bytes = ELFBuilder.core(is64: true, machine: 62, loads: [], notes: [])
    try expectFailure(
      bytes, name: "noload.elf", .corrupt, offset: 64, mentions: ["no PT_LOAD", "expected at least one"])
  }

  @Test func crashDumpWithoutRuns() throws {
    let bytes = Self.patched(DumpBuilder.full(is64: true, runs: [(0, 1)])) { $0.put(UInt32(0), at: 0x88) }
    try expectFailure(bytes, name: "noruns.dmp", .corrupt, offset: 0x88, mentions: ["no physical pages"])
  }

  @Test func elfPNXNumCountPastEndOfFile() throws {
    // e_phnum = PN_XNUM with e_shoff pointing past the file.
    let bytes = Self.patched(Self.elf64) {
      $0.put(UInt16(0xFFFF), at: 0x38)
      $0.put(UInt64.max - 8, at: 0x28)
    }
    try expectFailure(bytes, name: "xnum.elf", .corrupt, offset: 0x28, mentions: ["overflows"])
  }

  @Test func limeEndBelowStart() throws {
    let bytes = Self.patched(LiMEBuilder.image([(0x5000, Fixtures.page(5))])) { $0.put(UInt64(0x4000), at: 16) }
    try expectFailure(bytes, name: "range.lime", .corrupt, offset: 0, mentions: ["below start", "0x4000", "0x5000"])
  }

  @Test func limeRangePastEndOfFile() throws {
    let bytes = Array(LiMEBuilder.image([(0, Fixtures.page(0))]).dropLast(16))
    try expectFailure(bytes, name: "cut.lime", .corrupt, offset: 0, mentions: ["file ends"])
  }

  @Test func recognisedButUnsupportedSignature() throws {
    try expectFailure(
      Array("KDUMP   ".utf8) + [UInt8](repeating: 0, count: 64), name: "k.img", .unsupported, mentions: ["kdump"])
  }

  @Test func unbackedReadsThrowNotBacked() throws {
    let image = try MemoryImageOpener.open(path: try Fixtures.write(Self.elf64, name: "ok.elf"))
    for (address, count) in [(UInt64(0x1000), 1), (0x0FFF, 2), (0x3FFF, 2), (0x5000, 8), (UInt64.max - 3, 8)] {
      do {
        _ = try image.read(at: address, count: count)
        Issue.record("read at \(address) succeeded")
      } catch {
        guard case .notBacked(_, let a, let c) = error else {
          Issue.record("wrong error \(error)")
          continue
        }
        #expect(a == address && c == count)
      }
      #expect(throws: MemoryImageError.self) { try image.readUInt64(at: address) }
    }
  }

  @Test("seeded mutations never crash or hang", arguments: [0, 1, 2, 3, 4, 5])
  func mutations(_ which: Int) throws {
    let seeds: [[UInt8]] = [
      DumpBuilder.full(is64: true, runs: [(0, 2), (5, 1)]),
      DumpBuilder.bitmap(is64: true, dumpType: 5, signature: "SDMP", present: [0, 3, 4], bitCount: 64),
      DumpBuilder.full(is64: false, runs: [(1, 2)]), Self.elf64,
      LiMEBuilder.image([(0, Fixtures.page(0)), (0x3000, Fixtures.page(3))]),
      DumpBuilder.rdmp(dumpType: 10, ranges: [(1, 2), (7, 1)]),
    ]
    let original = seeds[which]
    var rng = SeededGenerator(seed: UInt64(0xC0FFEE + which))
    print("mutation seed \(0xC0FFEE + which)")
    // Mutate only the metadata area (the first 0x2100 bytes, or the whole file if smaller).
    let span = min(original.count, 0x2100)
    let dir = try TestData.temporaryDirectory("mutate")
    for i in 0..<150 {
      var bytes = original
      for _ in 0..<Int(rng.next() % 4 + 1) {
        let at = Int(rng.next() % UInt64(span))
        bytes[at] = UInt8(truncatingIfNeeded: rng.next())
      }
      if rng.next() % 8 == 0 { bytes = Array(bytes.prefix(Int(rng.next() % UInt64(bytes.count)))) }
      let path = dir.appendingPathComponent("m\(i).bin").path
      try Data(bytes).write(to: URL(fileURLWithPath: path))
      guard let image = try? MemoryImageOpener.open(path: path) else { continue }
      for r in image.ranges.prefix(4) {
        _ = try? image.read(at: r.start, count: Int(min(r.length, 0x2000)))
        _ = try? image.readUInt64(at: r.end &- 4)
      }
    }
  }
}
