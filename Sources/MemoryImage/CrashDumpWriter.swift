// Writes a 64-bit FULL Windows crash dump (DumpType 1) that WinDbg, kdmp-parser and Volatility 3
// open: a 0x2000-byte DUMP_HEADER64 (unused bytes hold the 'PAGE' filler the kernel writes),
// then the pages of each PHYSICAL_MEMORY_RUN back to back. Layout source: as in
// CrashDumpHeader+Parsing.swift; the default CONTEXT is the AMD64 CONTEXT of winnt.h (MxCsr at
// 0x34, FltSave.MxCsr at 0x118: kdmp-parser requires them equal). Streams the image in 1 MiB
// chunks into a temporary file beside the target, leaves all-zero chunks as holes, then renames.

import BinaryReading

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Converts any physical-memory image into a 64-bit full crash dump.
public enum CrashDumpWriter {
  /// Header values the dump states about the machine.
  public struct Parameters: Sendable, Hashable {
    /// DirectoryTableBase (kernel CR3).
    public var dtb: UInt64
    public var kdDebuggerDataBlock: UInt64
    public var psLoadedModuleList: UInt64
    public var psActiveProcessHead: UInt64
    public var pfnDataBase: UInt64
    public var numberProcessors: UInt32
    /// 0xF (free build).
    public var majorVersion: UInt32
    /// The build number.
    public var minorVersion: UInt32
    /// 0x8664.
    public var machineImageType: UInt32
    public var bugCheckCode: UInt32
    public var bugCheckParameters: [UInt64]
    /// FILETIME.
    public var systemTime: UInt64
    /// CONTEXT record bytes (at most 3000); nil writes a minimal AMD64 CONTEXT.
    public var contextRecord: [UInt8]?

    public init(
      dtb: UInt64, kdDebuggerDataBlock: UInt64, psLoadedModuleList: UInt64, psActiveProcessHead: UInt64,
      pfnDataBase: UInt64 = 0, numberProcessors: UInt32 = 1, majorVersion: UInt32 = 0xF, minorVersion: UInt32,
      machineImageType: UInt32 = 0x8664, bugCheckCode: UInt32 = 0, bugCheckParameters: [UInt64] = [0, 0, 0, 0],
      systemTime: UInt64 = 0, contextRecord: [UInt8]? = nil
    ) {
      self.dtb = dtb
      self.kdDebuggerDataBlock = kdDebuggerDataBlock
      self.psLoadedModuleList = psLoadedModuleList
      self.psActiveProcessHead = psActiveProcessHead
      self.pfnDataBase = pfnDataBase
      self.numberProcessors = numberProcessors
      self.majorVersion = majorVersion
      self.minorVersion = minorVersion
      self.machineImageType = machineImageType
      self.bugCheckCode = bugCheckCode
      self.bugCheckParameters = bugCheckParameters
      self.systemTime = systemTime
      self.contextRecord = contextRecord
    }
  }

  static let pageSize: UInt64 = 0x1000
  static let chunkPages: UInt64 = 256

  /// Writes `image` as a 64-bit full crash dump at `path` (via a temporary file and a rename).
  public static func writeFull64(from image: any PhysicalMemory, to path: String, header: Parameters)
    throws(MemoryImageError)
  {
    let layout = CrashDumpLayout.header64
    let runs = pageRuns(image.ranges, maxRuns: Int(layout.maxRuns))
    var totalPages: UInt64 = 0
    for run in runs { totalPages += run.pageCount }  // runs are disjoint within 2^52 pages: no overflow
    let (dataSize, o1) = totalPages.multipliedReportingOverflow(by: pageSize)
    let (totalSize, o2) = dataSize.addingReportingOverflow(layout.headerSize)
    guard !o1, !o2, totalSize <= UInt64(Int64.max) else {
      throw .unsupported(path: path, message: "a dump of \(totalPages) pages is larger than a file can be")
    }
    if let context = header.contextRecord, context.count > layout.contextRecordSize {
      throw .unsupported(path: path, message: "context record of \(context.count) bytes (at most 3000)")
    }
    let bytes = headerBytes(header, runs: runs, totalPages: totalPages, totalSize: totalSize)

    let temporary = path + ".partial-\(getpid())"
    let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    guard fd >= 0 else { throw ioError(temporary, "cannot create") }
    var ok = false
    defer {
      close(fd)
      if !ok { unlink(temporary) }
    }
    try writeAll(fd, bytes, at: 0, temporary)
    var fileOffset = layout.headerSize
    let zero = [UInt8](repeating: 0, count: Int(chunkPages * pageSize))
    for run in runs {
      var page: UInt64 = 0
      while page < run.pageCount {
        let n = min(chunkPages, run.pageCount - page)
        let address = (run.basePage + page) * pageSize
        let chunk = try readFilled(image, at: address, count: Int(n * pageSize))
        let isZero = chunk.withUnsafeBytes { c in
          zero.withUnsafeBytes { z in
            guard let cp = c.baseAddress, let zp = z.baseAddress, c.count <= z.count else { return false }
            return memcmp(cp, zp, c.count) == 0
          }
        }
        if !isZero { try writeAll(fd, chunk, at: fileOffset, temporary) }
        fileOffset += n * pageSize
        page += n
      }
    }
    guard ftruncate(fd, off_t(totalSize)) == 0 else { throw ioError(temporary, "cannot set size") }
    guard rename(temporary, path) == 0 else { throw ioError(path, "cannot rename \(temporary) to") }
    ok = true
  }

  /// Page-rounded runs covering `ranges`; when more than `maxRuns`, the closest runs are joined
  /// (the pages between them are written as zeros).
  static func pageRuns(_ ranges: [PhysicalRange], maxRuns: Int) -> [CrashDumpHeader.Run] {
    var runs: [CrashDumpHeader.Run] = []
    for r in ranges.sorted(by: { $0.start < $1.start }) where r.length > 0 {
      let first = r.start / pageSize
      let end = r.end / pageSize + (r.end % pageSize == 0 ? 0 : 1)
      if let last = runs.last, first <= last.basePage + last.pageCount {
        let lastEnd = last.basePage + last.pageCount
        runs[runs.count - 1].pageCount = max(lastEnd, end) - last.basePage
      } else {
        runs.append(.init(basePage: first, pageCount: end - first))
      }
    }
    while runs.count > max(maxRuns, 1) {
      var best = 1
      var bestGap = UInt64.max
      for i in 1..<runs.count {
        let gap = runs[i].basePage - (runs[i - 1].basePage + runs[i - 1].pageCount)
        if gap < bestGap { (best, bestGap) = (i, gap) }
      }
      runs[best - 1].pageCount = runs[best].basePage + runs[best].pageCount - runs[best - 1].basePage
      runs.remove(at: best)
    }
    return runs
  }

  /// `count` bytes at `address`, unbacked bytes as zeros.
  static func readFilled(_ image: any PhysicalMemory, at address: UInt64, count: Int) throws(MemoryImageError)
    -> [UInt8]
  {
    if let bytes = try? image.read(at: address, count: count) { return bytes }
    var result = [UInt8](repeating: 0, count: count)
    let (sum, overflow) = address.addingReportingOverflow(UInt64(count))
    let end = overflow ? UInt64.max : sum
    for r in image.ranges where r.start < end && r.end > address {
      let from = max(r.start, address)
      let to = min(r.end, end)
      let part = try image.read(at: from, count: Int(to - from))
      result.replaceSubrange(Int(from - address)..<Int(to - address), with: part)
    }
    return result
  }

  /// The DUMP_HEADER64 bytes.
  static func headerBytes(_ p: Parameters, runs: [CrashDumpHeader.Run], totalPages: UInt64, totalSize: UInt64)
    -> [UInt8]
  {
    let layout = CrashDumpLayout.header64
    var h = [UInt8](repeating: 0, count: Int(layout.headerSize))
    for i in stride(from: 0, to: h.count, by: 4) { put(&h, i, CrashDumpHeader.signaturePage) }
    put(&h, 0x0, CrashDumpHeader.signaturePage)
    put(&h, 0x4, CrashDumpHeader.validDump64)
    put(&h, 0x8, p.majorVersion)
    put(&h, 0xC, p.minorVersion)
    put(&h, Int(layout.directoryTableBase), p.dtb)
    put(&h, Int(layout.pfnDataBase), p.pfnDataBase)
    put(&h, Int(layout.psLoadedModuleList), p.psLoadedModuleList)
    put(&h, Int(layout.psActiveProcessHead), p.psActiveProcessHead)
    put(&h, Int(layout.machineImageType), p.machineImageType)
    put(&h, Int(layout.numberProcessors), p.numberProcessors)
    put(&h, Int(layout.bugCheckCode), p.bugCheckCode)
    put(&h, 0x3C, UInt32(0))
    for i in 0..<4 {
      put(&h, Int(layout.bugCheckParameters) + 8 * i, i < p.bugCheckParameters.count ? p.bugCheckParameters[i] : 0)
    }
    h.replaceSubrange(0x60..<0x80, with: [UInt8](repeating: 0, count: 0x20))  // VersionUser
    put(&h, Int(layout.kdDebuggerDataBlock), p.kdDebuggerDataBlock)
    put(&h, Int(layout.physicalMemoryBlock), UInt32(runs.count))
    put(&h, Int(layout.physicalMemoryBlock) + 4, UInt32(0))
    put(&h, Int(layout.numberOfPages), totalPages)
    for (i, run) in runs.enumerated() {
      put(&h, Int(layout.firstRun) + 16 * i, run.basePage)
      put(&h, Int(layout.firstRun) + 16 * i + 8, run.pageCount)
    }
    let context = p.contextRecord ?? defaultContext()
    h.replaceSubrange(Int(layout.contextRecord)..<(Int(layout.contextRecord) + context.count), with: context)
    h.replaceSubrange(0xF00..<0xF98, with: [UInt8](repeating: 0, count: 0x98))  // EXCEPTION_RECORD64
    put(&h, Int(layout.dumpType), UInt32(1))
    put(&h, 0xF9C, UInt32(0))
    put(&h, Int(layout.requiredDumpSpace), totalSize)
    put(&h, Int(layout.systemTime), p.systemTime)
    h.replaceSubrange(0xFB0..<0x1058, with: [UInt8](repeating: 0, count: 0x1058 - 0xFB0))  // Comment … BootId
    return h
  }

  /// A minimal AMD64 CONTEXT (winnt.h): flags, MXCSR twice, kernel segment selectors, EFLAGS.
  static func defaultContext() -> [UInt8] {
    var c = [UInt8](repeating: 0, count: 0x4D0)
    put(&c, 0x30, UInt32(0x0010_001F))  // ContextFlags: CONTEXT_AMD64 | CONTROL | INTEGER | SEGMENTS | FP | DEBUG
    put(&c, 0x34, UInt32(0x1F80))  // MxCsr
    put(&c, 0x38, UInt16(0x10))  // SegCs
    for o in [0x3A, 0x3C, 0x40] { put(&c, o, UInt16(0x2B)) }  // SegDs, SegEs, SegGs
    put(&c, 0x3E, UInt16(0x53))  // SegFs
    put(&c, 0x42, UInt16(0x18))  // SegSs
    put(&c, 0x44, UInt32(0x202))  // EFlags
    put(&c, 0x100, UInt16(0x27F))  // FltSave.ControlWord
    put(&c, 0x118, UInt32(0x1F80))  // FltSave.MxCsr
    return c
  }

  static func put<T: FixedWidthInteger>(_ buffer: inout [UInt8], _ offset: Int, _ value: T) {
    withUnsafeBytes(of: value.littleEndian) { buffer.replaceSubrange(offset..<(offset + $0.count), with: $0) }
  }

  static func writeAll(_ fd: Int32, _ bytes: [UInt8], at offset: UInt64, _ path: String) throws(MemoryImageError) {
    var done = 0
    while done < bytes.count {
      let n = bytes.withUnsafeBytes { b -> Int in
        guard let base = b.baseAddress else { return -1 }
        return pwrite(fd, base + done, b.count - done, off_t(offset) + off_t(done))
      }
      guard n > 0 else { throw ioError(path, "cannot write at \(Hex.format(offset + UInt64(done)))") }
      done += n
    }
  }

  static func ioError(_ path: String, _ what: String) -> MemoryImageError {
    .io(.io(path: path, message: "\(what): \(String(cString: strerror(errno)))"))
  }
}
