// Relative virtual addresses: which section holds an RVA, and reading bytes at an RVA in either
// layout. In the file layout a section spans [VirtualAddress, VirtualAddress + VirtualSize rounded
// up to SectionAlignment); its first SizeOfRawData bytes come from PointerToRawData in the file and
// the rest reads as zeros, as the loader maps it (PE Format, "Section Table (Section Headers)").

import BinaryReading

extension PEImage {
  /// The largest single read by RVA accepted (256 MiB): larger lengths are garbage.
  static let maximumRead = 0x1000_0000

  /// The section whose memory span holds `rva`, or nil (headers, gaps, past the image).
  public func section(containing rva: UInt32) -> PESection? {
    sectionSpan(containing: UInt64(rva))?.section
  }

  /// `count` bytes at `rva`, translated through the layout (zeros where a section has no raw data).
  public func read(rva: UInt32, count: Int) throws(PEError) -> [UInt8] {
    try read(rva: rva, count: count, structure: "bytes").bytes
  }

  /// `count` bytes at `rva` for `structure`, as field-readable bytes whose origin is the RVA.
  func read(rva: UInt32, count: Int, structure: String) throws(PEError) -> PEBytes {
    let start = UInt64(rva)
    let imageSize = UInt64(optionalHeader.sizeOfImage)
    guard count >= 0, count <= Self.maximumRead else {
      throw .corrupt(
        source: sourceName, offset: start, structure: structure, detail: "length \(count) is not a plausible size")
    }
    let end = start + UInt64(count)  // < 2^33
    guard end <= imageSize else {
      throw .invalidRVA(
        source: sourceName, rva: rva, count: UInt64(count), structure: structure,
        detail: "past SizeOfImage \(Hex.format(imageSize))")
    }
    switch layout {
    case .mapped:
      let bytes = try Self.fetch(source, offset: start, count: count, structure: structure)
      return bytes
    case .file:
      let bytes = try readFileLayout(start: start, end: end, structure: structure)
      return PEBytes(bytes, origin: start, source: sourceName, structure: structure)
    }
  }

  /// Reads [start, end) of the image from a file: piece by piece across headers and sections.
  private func readFileLayout(start: UInt64, end: UInt64, structure: String) throws(PEError) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(Int(end - start))  // end - start ≤ maximumRead, checked by the caller
    var cursor = start
    // Each pass ends at a section end, a raw-data end or the header end: at most two per span.
    var passes = 0
    let maximumPasses = 2 * sections.count + 4
    while cursor < end {
      passes += 1
      guard passes <= maximumPasses else {
        throw .corrupt(
          source: sourceName, offset: start, structure: structure, detail: "overlapping or degenerate sections")
      }
      if let span = sectionSpan(containing: cursor) {
        let pieceEnd = min(end, span.end)
        let relative = cursor - span.start  // cursor ≥ span.start
        let rawVisible = min(UInt64(span.section.sizeOfRawData), span.end - span.start)
        if relative < rawVisible {
          let rawEnd = min(pieceEnd - span.start, rawVisible)
          let offset = UInt64(span.section.pointerToRawData) + relative  // < 2^33
          let piece = try Self.fetch(source, offset: offset, count: Int(rawEnd - relative), structure: structure)
          out.append(contentsOf: piece.bytes)
          cursor = span.start + rawEnd
        }
        if cursor < pieceEnd {
          out.append(contentsOf: repeatElement(0, count: Int(pieceEnd - cursor)))  // ≤ maximumRead
          cursor = pieceEnd
        }
      } else if cursor < UInt64(optionalHeader.sizeOfHeaders) {
        // The headers are mapped at RVA 0 from file offset 0, up to SizeOfHeaders or the next section.
        let nextSection = sections.map { UInt64($0.virtualAddress) }.filter { $0 > cursor }.min() ?? end
        let pieceEnd = min(end, UInt64(optionalHeader.sizeOfHeaders), nextSection)
        let piece = try Self.fetch(source, offset: cursor, count: Int(pieceEnd - cursor), structure: structure)
        out.append(contentsOf: piece.bytes)
        cursor = pieceEnd
      } else {
        throw .invalidRVA(
          source: sourceName, rva: UInt32(truncatingIfNeeded: cursor), count: end - cursor, structure: structure,
          detail: "in no section of the file")
      }
    }
    return out
  }

  /// The section holding `rva` and its memory span [start, end), clipped to SizeOfImage.
  func sectionSpan(containing rva: UInt64) -> (section: PESection, start: UInt64, end: UInt64)? {
    let imageSize = UInt64(optionalHeader.sizeOfImage)
    for section in sections {
      let start = UInt64(section.virtualAddress)
      let declared = UInt64(section.virtualSize != 0 ? section.virtualSize : section.sizeOfRawData)
      let aligned = peAlignUp(declared, UInt64(optionalHeader.sectionAlignment)) ?? declared
      let end = min(start + aligned, imageSize)  // < 2^34
      if rva >= start, rva < end { return (section, start, end) }
    }
    return nil
  }

  /// A NUL-terminated string at `rva` (at most `limit` bytes), read in small chunks so that a string
  /// near the end of the image or before a missing page is still found.
  func readCString(rva: UInt32, limit: Int, structure: String) throws(PEError) -> String {
    let imageSize = UInt64(optionalHeader.sizeOfImage)
    guard UInt64(rva) < imageSize else {
      throw .invalidRVA(
        source: sourceName, rva: rva, count: 1, structure: structure,
        detail: "past SizeOfImage \(Hex.format(imageSize))")
    }
    var collected: [UInt8] = []
    var cursor = UInt64(rva)
    while collected.count <= limit, cursor < imageSize {
      // Stop each chunk at a 256-byte boundary: pages are never crossed needlessly.
      let chunkEnd = min((cursor | 0xFF) + 1, imageSize)  // cursor < 2^32
      let chunk = try read(rva: UInt32(truncatingIfNeeded: cursor), count: Int(chunkEnd - cursor), structure: structure)
      if let text = chunk.cString(0, limit: chunk.count) {
        collected.append(contentsOf: text)
        guard collected.count <= limit else { break }
        return peText(collected)
      }
      collected.append(contentsOf: chunk.bytes)
      cursor = chunkEnd
    }
    throw .corrupt(
      source: sourceName, offset: UInt64(rva), structure: structure,
      detail: "string at RVA \(Hex.format(UInt64(rva))) has no NUL within \(limit) bytes or the image")
  }
}
