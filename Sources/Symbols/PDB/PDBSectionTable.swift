// Turns a symbol's (segment, offset) into an RVA, using the image section headers the DBI optional
// debug header points to, and the OMAP-from-source table when the image was reordered after linking.
// Layouts: PE/COFF specification (IMAGE_SECTION_HEADER, 40 bytes); LLVM "The DBI Stream" (Optional
// Debug Header: section header and OMAP stream numbers); OMAP entries are (from RVA, to RVA) u32 pairs.

import BinaryReading

/// One image section as the PDB recorded it.
public struct PDBSection: Sendable, Hashable {
  public let name: String
  public let virtualSize: UInt32
  public let virtualAddress: UInt32
  public let characteristics: UInt32
}

/// The section headers (and OMAP) needed to compute RVAs.
public struct PDBSectionTable: Sendable {
  public let sections: [PDBSection]
  /// Sorted (source RVA, target RVA) pairs; empty when the image was not reordered.
  let omap: [(from: UInt32, to: UInt32)]

  /// Reads the section headers (original ones when OMAP is present) and the OMAP table.
  init(pdb: PDBFile, dbi: DBIStream) throws(PDBError) {
    let d = dbi.debugStreams
    let useOmap = d.omapFromSource != 0xFFFF && d.originalSectionHeaders != 0xFFFF
    let headerStream = useOmap ? d.originalSectionHeaders : d.sectionHeaders
    if let bytes = try pdb.optionalStreamBytes(headerStream) {
      sections = try Self.parseSections(bytes, file: pdb.path)
    } else {
      sections = []
    }
    if useOmap, let bytes = try pdb.optionalStreamBytes(d.omapFromSource) {
      var c = PDBCursor(bytes, file: pdb.path, structure: "OMAP from source")
      var pairs: [(from: UInt32, to: UInt32)] = []
      pairs.reserveCapacity(bytes.count / 8)
      while c.remaining >= 8 { pairs.append((try c.u32(), try c.u32())) }
      omap = pairs
    } else {
      omap = []
    }
  }

  static func parseSections(_ bytes: [UInt8], file: String) throws(PDBError) -> [PDBSection] {
    var c = PDBCursor(bytes, file: file, structure: "section header stream")
    guard bytes.count % 40 == 0 else { throw c.corrupt("size \(bytes.count) is not a multiple of 40") }
    var out: [PDBSection] = []
    out.reserveCapacity(bytes.count / 40)
    while c.remaining > 0 {
      let nameBytes = try c.bytes(8)
      let vsize = try c.u32()
      let va = try c.u32()
      try c.skip(16 &+ 4)  // raw size/pointer, relocation/line-number pointers, their counts
      let ch = try c.u32()
      let name = String(decoding: nameBytes.prefix { $0 != 0 }, as: UTF8.self)
      out.append(PDBSection(name: name, virtualSize: vsize, virtualAddress: va, characteristics: ch))
    }
    return out
  }

  /// The RVA of `segment:offset` (segment 1-based), or nil when the segment is unknown or OMAP drops it.
  public func rva(segment: UInt16, offset: UInt32) -> UInt64? {
    guard segment >= 1, Int(segment) <= sections.count else { return nil }
    let (r, o) = sections[Int(segment) &- 1].virtualAddress.addingReportingOverflow(offset)
    guard !o else { return nil }
    guard !omap.isEmpty else { return UInt64(r) }
    // Last entry with from ≤ r (binary search over the sorted table).
    var lo = 0
    var hi = omap.count
    while lo < hi {
      let mid = lo &+ (hi &- lo) / 2
      if omap[mid].from <= r { lo = mid &+ 1 } else { hi = mid }
    }
    guard lo > 0 else { return nil }
    let e = omap[lo &- 1]
    guard e.to != 0 else { return nil }
    return UInt64(e.to) &+ UInt64(r &- e.from)  // r ≥ from; both < 2^32
  }
}
