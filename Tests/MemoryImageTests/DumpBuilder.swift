// Builds synthetic Windows crash dumps (64-bit full/bitmap/kernel, 32-bit full/bitmap) for tests.
// Offsets are the documented DUMP_HEADER64/32 ones (see CrashDumpLayoutTests for their sources).

import MemoryImage

enum DumpBuilder {
  static let page = 0x1000

  /// A header of `size` bytes filled with 'PAGE' (as the kernel does) with the magic set.
  static func blankHeader(is64: Bool) -> Bytes {
    var b = Bytes(count: is64 ? 0x2000 : 0x1000)
    for i in stride(from: 0, to: b.data.count, by: 4) { b.put(UInt32(0x4547_4150), at: i) }
    b.put(UInt32(is64 ? 0x3436_5544 : 0x504D_5544), at: 4)
    if is64 {
      // CONTEXT.MxCsr (0x34) must equal FltSave.MxCsr (0x118) for kdmp-parser.
      b.put(UInt32(0x1F80), at: 0x348 + 0x34)
      b.put(UInt32(0x1F80), at: 0x348 + 0x118)
    }
    return b
  }

  /// Common fields with recognisable values.
  static func fillCommon(_ b: inout Bytes, is64: Bool, dumpType: UInt32, dtb: UInt64, pae: Bool = true) {
    b.put(UInt32(0xF), at: 8)
    b.put(UInt32(19041), at: 12)
    if is64 {
      b.put(dtb, at: 0x10)
      b.put(UInt64(0xFFFF_FA80_0000_0000), at: 0x18)
      b.put(UInt64(0xFFFF_F803_6142_A1B0), at: 0x20)
      b.put(UInt64(0xFFFF_F803_6141_DF60), at: 0x28)
      b.put(UInt32(0x8664), at: 0x30)
      b.put(UInt32(2), at: 0x34)
      b.put(UInt32(0xE2), at: 0x38)
      b.put(UInt64(0xFFFF_F803_6140_0B20), at: 0x80)
      b.put(dumpType, at: 0xF98)
    } else {
      b.put(UInt32(truncatingIfNeeded: dtb), at: 0x10)
      b.put(UInt32(0x8080_0000), at: 0x14)
      b.put(UInt32(0x8055_A420), at: 0x18)
      b.put(UInt32(0x8055_A158), at: 0x1C)
      b.put(UInt32(0x014C), at: 0x20)
      b.put(UInt32(1), at: 0x24)
      b.put(UInt32(0xE2), at: 0x28)
      b.put(UInt8(pae ? 1 : 0), at: 0x5C)
      b.put(UInt32(0x8054_5AE0), at: 0x60)
      b.put(dumpType, at: 0xF88)
    }
  }

  /// A full dump (DumpType 1) with the given runs (base page, page count); page contents from `Fixtures.page`.
  static func full(is64: Bool, runs: [(UInt64, UInt64)], dtb: UInt64 = 0x0018_7000, pae: Bool = true) -> [UInt8] {
    var b = blankHeader(is64: is64)
    fillCommon(&b, is64: is64, dumpType: 1, dtb: dtb, pae: pae)
    let block = is64 ? 0x88 : 0x64
    let runSize = is64 ? 16 : 8
    b.put(UInt32(runs.count), at: block)
    let total = runs.reduce(0) { $0 + $1.1 }
    if is64 {
      b.put(UInt32(0), at: block + 4)
      b.put(total, at: block + 8)
    } else {
      b.put(UInt32(total), at: block + 4)
    }
    let first = is64 ? 0x98 : 0x6C
    for (i, run) in runs.enumerated() {
      if is64 {
        b.put(run.0, at: first + runSize * i)
        b.put(run.1, at: first + runSize * i + 8)
      } else {
        b.put(UInt32(run.0), at: first + runSize * i)
        b.put(UInt32(run.1), at: first + runSize * i + 4)
      }
    }
    for run in runs { for pfn in run.0..<(run.0 + run.1) { b.append(Fixtures.page(pfn)) } }
    return b.data
  }

  /// A summary/bitmap dump: `signature` 'SDMP' or 'FDMP', one bit per page of `bitCount`.
  static func bitmap(
    is64: Bool, dumpType: UInt32, signature: String, present: [UInt64], bitCount: UInt64, dtb: UInt64 = 0x0018_7000
  ) -> [UInt8] {
    var b = blankHeader(is64: is64)
    fillCommon(&b, is64: is64, dumpType: dumpType, dtb: dtb)
    let base = is64 ? 0x2000 : 0x1000
    var s = Bytes(count: 0x38)
    s.put(Array(signature.utf8), at: 0)
    s.put(Array("DUMP".utf8), at: 4)
    var bitmap = [UInt8](repeating: 0, count: Int((bitCount + 7) / 8))
    for pfn in present { bitmap[Int(pfn / 8)] |= 1 << UInt8(pfn % 8) }
    // Pages start at the next page boundary after the bitmap.
    let firstPage = (base + 0x38 + bitmap.count + page - 1) / page * page
    s.put(UInt64(firstPage), at: 0x20)
    s.put(UInt64(present.count), at: 0x28)
    s.put(bitCount, at: 0x30)
    b.put(s.data + bitmap, at: base)
    b.put([UInt8](repeating: 0, count: firstPage - b.data.count), at: b.data.count)
    for pfn in present.sorted() { b.append(Fixtures.page(pfn)) }
    return b.data
  }

  /// An 'RDMP' dump (DumpType 8, 9 or 10, kdmp-parser's layout): range list at 0x2030 ended by a
  /// zero entry, pages from the next page boundary.
  static func rdmp(dumpType: UInt32, ranges: [(UInt64, UInt64)], dtb: UInt64 = 0x0018_7000) -> [UInt8] {
    var b = blankHeader(is64: true)
    fillCommon(&b, is64: true, dumpType: dumpType, dtb: dtb)
    let listEnd = 0x2030 + 16 * (ranges.count + 1)
    let firstPage = (listEnd + page - 1) / page * page
    b.put(UInt32(0x40), at: 0x2000)
    b.put(Array("RDMP".utf8), at: 0x2004)
    b.put(Array("DUMP".utf8), at: 0x2008)
    b.put(UInt32(0), at: 0x200C)
    b.put(UInt64(firstPage - 0x2020), at: 0x2010)  // MetadataSize: kdmp-parser wants FirstPageOffset - 0x2020
    b.put(UInt64(firstPage), at: 0x2018)
    b.put(UInt32(ranges.count), at: 0x2020)
    b.put(UInt32(0), at: 0x2024)
    b.put(ranges.reduce(0) { $0 + $1.1 }, at: 0x2028)
    for (i, r) in ranges.enumerated() {
      b.put(r.0, at: 0x2030 + 16 * i)
      b.put(r.1, at: 0x2038 + 16 * i)
    }
    b.put([UInt8](repeating: 0, count: firstPage - b.data.count), at: b.data.count)
    for r in ranges { for pfn in r.0..<(r.0 + r.1) { b.append(Fixtures.page(pfn)) } }
    return b.data
  }
}
