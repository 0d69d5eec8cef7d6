// Opens Windows kernel crash dumps (64-bit `PAGEDU64`, 32-bit `PAGEDUMP`) as physical memory.
// Full dumps (DumpType 1) store the pages of each PHYSICAL_MEMORY_RUN back to back after the
// header; kernel/summary (2) and bitmap dumps (5, 6) put a summary header right after the main
// header ('SDMP' for kernel, 'FDMP' for complete bitmap dumps) followed by a bitmap with one bit
// per physical page, and store the pages whose bit is set back to back from FirstPage on.
// RDMP dumps (8, 9, 10) are read by CrashDumpRDMP.swift. Summary layout source: Volatility 3 crash_common.json (_SUMMARY_DUMP: HeaderSize 0x20,
// Pages 0x28, BitmapSize 0x30, bitmap 0x38) and kdmp-parser's BMP_HEADER64 (same offsets).

import BinaryReading

/// Builds the segment map of a crash dump.
enum CrashDumpImage {
  static let pageSize: UInt64 = 0x1000
  /// 'SDMP' (kernel / summary dump).
  static let summarySignature: UInt32 = 0x504D_4453
  /// 'FDMP' (complete bitmap dump).
  static let fullBitmapSignature: UInt32 = 0x504D_4446
  /// 'DUMP'.
  static let summaryValid: UInt32 = 0x504D_5544

  static func open(_ file: MappedFile) throws(MemoryImageError) -> SegmentedImage {
    let reader = ImageFileReader(file)
    let header = try CrashDumpHeader.parse(reader)
    let layout: CrashDumpLayout = header.is64Bit ? .header64 : .header32
    let bits = header.is64Bit ? "64" : "32"
    let segments: [Segment]
    let name: String
    switch header.dumpType {
    case 1:
      segments = try fullDumpSegments(header, layout, reader)
      name = "crashdump-full\(bits)"
    case 2, 5, 6:
      let (segs, kind) = try bitmapSegments(layout, reader)
      segments = segs
      name = "crashdump-\(kind)\(bits)"
    case 4:
      throw .unsupported(path: file.path, message: "DumpType 4 (mini dump) holds no physical memory")
    case 8, 9, 10:
      guard header.is64Bit else {
        throw .unsupported(path: file.path, message: "32-bit 'RDMP' dump (DumpType \(header.dumpType))")
      }
      segments = try CrashDumpRDMP.segments(dumpType: header.dumpType, base: layout.headerSize, reader)
      name =
        header.dumpType == 8
        ? "crashdump-kernel64" : header.dumpType == 9 ? "crashdump-kernel-user64" : "crashdump-complete64"
    default:
      throw .corrupt(
        path: file.path, offset: layout.dumpType,
        message: "DumpType is \(header.dumpType), expected 1 (full), 2 (kernel), 5/6 (bitmap), 8/9/10 (RDMP)")
    }
    let map = try SegmentMap(validating: segments, reader: reader, what: "crash-dump page run")
    guard map.count > 0 else {
      throw reader.corrupt(
        layout.physicalMemoryBlock, "crash dump describes no physical pages, expected at least one run or bitmap bit")
    }
    return SegmentedImage(
      file: file, formatName: name, map: map, cpuState: CPUState(cr3: header.directoryTableBase),
      statedPagingMode: header.pagingMode, statedDirectoryTableBase: header.tableRoot, crashDumpHeader: header)
  }

  /// Full dump: the runs' pages, in order, from the end of the header.
  static func fullDumpSegments(_ header: CrashDumpHeader, _ layout: CrashDumpLayout, _ reader: ImageFileReader)
    throws(MemoryImageError) -> [Segment]
  {
    var segments: [Segment] = []
    var fileOffset = layout.headerSize
    for (i, run) in header.runs.enumerated() {
      let at = layout.firstRun + UInt64(i) * layout.runSize  // i < maxRuns (≤ 86)
      let start = try reader.multiply(run.basePage, pageSize, at: at, "run \(i) BasePage × page size")
      let length = try reader.multiply(run.pageCount, pageSize, at: at, "run \(i) PageCount × page size")
      let end = try reader.add(fileOffset, length, at: at, "run \(i) file end")
      guard end <= reader.size else {
        throw reader.corrupt(
          at,
          "crash-dump run \(i) (BasePage \(Hex.format(run.basePage)), \(run.pageCount) pages) ends past end of file (\(Hex.format(end)) > \(Hex.format(reader.size)))"
        )
      }
      segments.append(Segment(start: start, length: length, fileOffset: fileOffset, describedAt: at))
      fileOffset = end
    }
    return segments
  }

  /// Summary/bitmap dump: one bit per page; set pages stored in order from FirstPage.
  static func bitmapSegments(_ layout: CrashDumpLayout, _ reader: ImageFileReader) throws(MemoryImageError) -> (
    [Segment], String
  ) {
    let base = layout.headerSize
    let signature = try reader.u32(base, "summary-dump header signature")
    guard signature == summarySignature || signature == fullBitmapSignature else {
      throw reader.corrupt(
        base, "summary-dump signature is \(Hex.format(UInt64(signature))), expected 'SDMP' or 'FDMP'")
    }
    let valid = try reader.u32(base + 4, "summary-dump ValidDump")
    guard valid == summaryValid else {
      throw reader.corrupt(base + 4, "summary-dump ValidDump is \(Hex.format(UInt64(valid))), expected 'DUMP'")
    }
    let firstPage = try reader.u64(base + 0x20, "summary-dump FirstPage (HeaderSize)")
    let bitCount = try reader.u64(base + 0x30, "summary-dump bitmap size in bits")
    // A bitmap over more than 2^52 pages would describe addresses beyond 2^64.
    guard bitCount <= 1 << 52 else {
      throw reader.corrupt(base + 0x30, "summary-dump bitmap has \(bitCount) bits, more than a 64-bit address space")
    }
    let bitmapOffset = base + 0x38
    let bitmapBytes = (bitCount + 7) / 8
    try reader.require(bitmapOffset, bitmapBytes, "summary-dump bitmap of \(bitCount) bits")
    guard firstPage >= bitmapOffset + bitmapBytes else {
      throw reader.corrupt(
        base + 0x20,
        "summary-dump FirstPage \(Hex.format(firstPage)) lies inside the header/bitmap (ends at \(Hex.format(bitmapOffset + bitmapBytes)))"
      )
    }
    var segments: [Segment] = []
    var fileOffset = firstPage
    var runStart: UInt64? = nil
    var runLength: UInt64 = 0
    var runFile: UInt64 = 0
    func close(_ at: UInt64) {
      if let s = runStart {
        segments.append(
          Segment(start: s * pageSize, length: runLength * pageSize, fileOffset: runFile, describedAt: at))
        runStart = nil
      }
    }
    // Bitmap read in chunks so a huge bitmap is never copied whole.
    let chunk: UInt64 = 1 << 16
    var chunkStart: UInt64 = 0
    while chunkStart < bitmapBytes {
      let n = min(chunk, bitmapBytes - chunkStart)
      let bytes = try reader.bytes(bitmapOffset + chunkStart, Int(n), "summary-dump bitmap")
      for (j, byte) in bytes.enumerated() {
        let byteIndex = chunkStart + UInt64(j)
        let at = bitmapOffset + byteIndex
        if byte == 0 {
          close(at)
          continue
        }
        for bit in 0..<UInt64(8) {
          let pfn = byteIndex * 8 + bit
          guard pfn < bitCount else { break }
          if byte & (1 << bit) != 0 {
            if runStart == nil {
              runStart = pfn
              runLength = 0
              runFile = fileOffset
            }
            runLength += 1
            // Every set bit moves one page on; past the file is reported by the segment check.
            fileOffset = try reader.add(fileOffset, pageSize, at: at, "summary-dump page offset")
          } else {
            close(at)
          }
        }
      }
      chunkStart += n
    }
    close(bitmapOffset + bitmapBytes)
    return (segments, signature == fullBitmapSignature ? "bitmap" : "kernel")
  }
}
