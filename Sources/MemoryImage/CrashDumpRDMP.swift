// Page lists of the 'RDMP' crash dumps WinDbg writes with `.dump /k` (DumpType 8), `/ka` (9) and
// `/f` (10): after the 0x2000-byte DUMP_HEADER64 comes Marker u32 (0x40), Signature 'RDMP',
// ValidDump 'DUMP', a reserved u32, MetadataSize u64 (0x10), FirstPageOffset u64 (0x18), two
// u64 (for type 10: NumberOfRanges u32 at 0x20 and TotalNumberOfPages u64 at 0x28), then from 0x30
// a list of {PageFileNumber u64, NumberOfPages u64} ranges whose pages are stored back to back
// from FirstPageOffset; a range with PFN 0 ends the list. Layout source: the reverse-engineered
// RDMP_HEADER64 / KERNEL_RDMP_HEADER64 / FULL_RDMP_HEADER64 of 0vercl0k/kdmp-parser
// (kdmp-parser-structs.h), not a Microsoft document.

import BinaryReading

/// Builds the segments of an 'RDMP' dump.
enum CrashDumpRDMP {
  static let marker: UInt32 = 0x40
  /// 'RDMP'.
  static let signature: UInt32 = 0x504D_4452
  static let listOffset: UInt64 = 0x30

  static func segments(dumpType: UInt32, base: UInt64, _ r: ImageFileReader) throws(MemoryImageError) -> [Segment] {
    let m = try r.u32(base, "RDMP Marker")
    let sig = try r.u32(base + 4, "RDMP Signature")
    let valid = try r.u32(base + 8, "RDMP ValidDump")
    guard m == marker, sig == signature, valid == CrashDumpImage.summaryValid else {
      throw r.corrupt(
        base,
        "RDMP header is marker \(Hex.format(UInt64(m))), signature \(Hex.format(UInt64(sig))), ValidDump \(Hex.format(UInt64(valid))); expected 0x40, 'RDMP', 'DUMP'"
      )
    }
    let firstPage = try r.u64(base + 0x18, "RDMP FirstPageOffset")
    let listStart = base + listOffset
    guard firstPage >= listStart, firstPage <= r.size else {
      throw r.corrupt(
        base + 0x18,
        "RDMP FirstPageOffset \(Hex.format(firstPage)) must lie between the range list (\(Hex.format(listStart))) and the end of the file (\(Hex.format(r.size)))"
      )
    }
    let total: UInt64? = dumpType == 10 ? try r.u64(base + 0x28, "RDMP TotalNumberOfPages") : nil
    let entryCount = (firstPage - listStart) / 16  // the list lies before the first page
    var segments: [Segment] = []
    var fileOffset = firstPage
    var counted: UInt64 = 0
    for i in 0..<entryCount {
      if let total, counted >= total { break }
      let at = listStart + i * 16
      let pfn = try r.u64(at, "RDMP range PageFileNumber")
      let count = try r.u64(at + 8, "RDMP range NumberOfPages")
      if pfn == 0 { break }
      let start = try r.multiply(pfn, CrashDumpImage.pageSize, at: at, "RDMP range \(i) address")
      let length = try r.multiply(count, CrashDumpImage.pageSize, at: at, "RDMP range \(i) length")
      let end = try r.add(fileOffset, length, at: at, "RDMP range \(i) file end")
      guard end <= r.size else {
        throw r.corrupt(
          at,
          "RDMP range \(i) (PFN \(Hex.format(pfn)), \(count) pages) ends past end of file (\(Hex.format(end)) > \(Hex.format(r.size)))"
        )
      }
      segments.append(Segment(start: start, length: length, fileOffset: fileOffset, describedAt: at))
      fileOffset = end
      counted = try r.add(counted, count, at: at, "RDMP page count")
    }
    return segments
  }
}
