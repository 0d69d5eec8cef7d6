// Reads DUMP_HEADER64 / DUMP_HEADER32 from a crash-dump file.
// Layout source: DUMP_HEADER64 and DUMP_HEADER32 as published in the Windows SDK metadata
// (windows-rs docs, Win32::System::Diagnostics::Debug::DUMP_HEADER64/32), cross-checked with the
// offsets pinned by 0vercl0k/kdmp-parser (kdmp-parser-structs.h, HEADER64) and Volatility 3's
// crash64.json / crash.json symbol tables. Offsets are pinned by CrashDumpLayoutTests.

import BinaryReading

/// Field offsets of one header flavour.
struct CrashDumpLayout: Sendable {
  var headerSize: UInt64
  var pointerSize: UInt64
  var directoryTableBase: UInt64
  var pfnDataBase: UInt64
  var psLoadedModuleList: UInt64
  var psActiveProcessHead: UInt64
  var machineImageType: UInt64
  var numberProcessors: UInt64
  var bugCheckCode: UInt64
  var bugCheckParameters: UInt64
  var paeEnabled: UInt64?
  var kdDebuggerDataBlock: UInt64
  /// PHYSICAL_MEMORY_DESCRIPTOR: NumberOfRuns (u32), NumberOfPages (pointer-sized), Run[].
  var physicalMemoryBlock: UInt64
  var numberOfPages: UInt64
  var firstRun: UInt64
  /// Size of one PHYSICAL_MEMORY_RUN (BasePage, PageCount; pointer-sized each).
  var runSize: UInt64
  /// Size of PhysicalMemoryBlockBuffer (runs must fit inside it).
  var physicalMemoryBlockBufferSize: UInt64
  var contextRecord: UInt64
  var contextRecordSize: Int
  var dumpType: UInt64
  var requiredDumpSpace: UInt64
  var systemTime: UInt64
  var systemUpTime: UInt64
  var attributes: UInt64

  /// Highest run count the descriptor buffer can hold.
  var maxRuns: UInt64 { (physicalMemoryBlockBufferSize - (firstRun - physicalMemoryBlock)) / runSize }

  static let header64 = CrashDumpLayout(
    headerSize: 0x2000, pointerSize: 8, directoryTableBase: 0x0010, pfnDataBase: 0x0018,
    psLoadedModuleList: 0x0020, psActiveProcessHead: 0x0028, machineImageType: 0x0030, numberProcessors: 0x0034,
    bugCheckCode: 0x0038, bugCheckParameters: 0x0040, paeEnabled: nil, kdDebuggerDataBlock: 0x0080,
    physicalMemoryBlock: 0x0088, numberOfPages: 0x0090, firstRun: 0x0098, runSize: 16,
    physicalMemoryBlockBufferSize: 700, contextRecord: 0x0348, contextRecordSize: 3000, dumpType: 0x0F98,
    requiredDumpSpace: 0x0FA0, systemTime: 0x0FA8, systemUpTime: 0x1030, attributes: 0x1050)

  static let header32 = CrashDumpLayout(
    headerSize: 0x1000, pointerSize: 4, directoryTableBase: 0x0010, pfnDataBase: 0x0014,
    psLoadedModuleList: 0x0018, psActiveProcessHead: 0x001C, machineImageType: 0x0020, numberProcessors: 0x0024,
    bugCheckCode: 0x0028, bugCheckParameters: 0x002C, paeEnabled: 0x005C, kdDebuggerDataBlock: 0x0060,
    physicalMemoryBlock: 0x0064, numberOfPages: 0x0068, firstRun: 0x006C, runSize: 8,
    physicalMemoryBlockBufferSize: 700, contextRecord: 0x0320, contextRecordSize: 1200, dumpType: 0x0F88,
    requiredDumpSpace: 0x0FA0, systemTime: 0x0FC0, systemUpTime: 0x0FB8, attributes: 0x08A0)
}

extension CrashDumpHeader {
  /// Parses the header at the start of `reader`'s file; `requireRuns` makes an unfilled or absurd
  /// run list an error (full dumps need it; bitmap dumps do not).
  static func parse(_ reader: ImageFileReader, requireRuns: Bool? = nil) throws(MemoryImageError) -> CrashDumpHeader {
    let signature = try reader.u32(0, "crash-dump signature")
    guard signature == signaturePage else {
      throw reader.corrupt(0, "crash-dump signature is \(Hex.format(UInt64(signature))), expected 'PAGE' (0x45474150)")
    }
    let valid = try reader.u32(4, "crash-dump ValidDump")
    let layout: CrashDumpLayout
    switch valid {
    case validDump64: layout = .header64
    case validDump32: layout = .header32
    default:
      throw reader.corrupt(
        4, "crash-dump ValidDump is \(Hex.format(UInt64(valid))), expected 'DU64' (0x34365544) or 'DUMP' (0x504d5544)")
    }
    let is64 = layout.pointerSize == 8
    try reader.require(0, layout.headerSize, "crash-dump header (\(is64 ? "DUMP_HEADER64" : "DUMP_HEADER32"))")
    func ptr(_ offset: UInt64, _ what: String) throws(MemoryImageError) -> UInt64 {
      is64 ? try reader.u64(offset, what) : UInt64(try reader.u32(offset, what))
    }
    var params: [UInt64] = []
    for i in 0..<UInt64(4) {
      params.append(try ptr(layout.bugCheckParameters + i * layout.pointerSize, "BugCheckParameter\(i + 1)"))
    }
    let dumpType = try reader.u32(layout.dumpType, "DumpType")
    var header = CrashDumpHeader(
      signature: signature, validDump: valid, is64Bit: is64,
      majorVersion: try reader.u32(8, "MajorVersion"), minorVersion: try reader.u32(12, "MinorVersion"),
      directoryTableBase: try ptr(layout.directoryTableBase, "DirectoryTableBase"),
      pfnDataBase: try ptr(layout.pfnDataBase, "PfnDataBase"),
      psLoadedModuleList: try ptr(layout.psLoadedModuleList, "PsLoadedModuleList"),
      psActiveProcessHead: try ptr(layout.psActiveProcessHead, "PsActiveProcessHead"),
      machineImageType: try reader.u32(layout.machineImageType, "MachineImageType"),
      numberProcessors: try reader.u32(layout.numberProcessors, "NumberProcessors"),
      bugCheckCode: try reader.u32(layout.bugCheckCode, "BugCheckCode"), bugCheckParameters: params,
      kdDebuggerDataBlock: try ptr(layout.kdDebuggerDataBlock, "KdDebuggerDataBlock"), dumpType: dumpType,
      requiredDumpSpace: try reader.u64(layout.requiredDumpSpace, "RequiredDumpSpace"),
      systemTime: try reader.u64(layout.systemTime, "SystemTime"),
      systemUpTime: try reader.u64(layout.systemUpTime, "SystemUpTime"),
      attributes: try reader.u32(layout.attributes, "Attributes"), paeEnabled: nil, numberOfPages: nil, runs: [],
      contextRecordOffset: layout.contextRecord, contextRecordSize: layout.contextRecordSize)
    if let pae = layout.paeEnabled { header.paeEnabled = try reader.u8(pae, "PaeEnabled") != 0 }

    // The run list is meaningful for full dumps; other types may leave it as the 'PAGE' filler.
    let mustHaveRuns = requireRuns ?? (dumpType == 1)
    let runCount = try reader.u32(layout.physicalMemoryBlock, "PHYSICAL_MEMORY_DESCRIPTOR.NumberOfRuns")
    let unfilled = runCount == signaturePage
    guard !unfilled, UInt64(runCount) <= layout.maxRuns else {
      if mustHaveRuns {
        throw reader.corrupt(
          layout.physicalMemoryBlock,
          unfilled
            ? "PHYSICAL_MEMORY_DESCRIPTOR is not filled in (NumberOfRuns = 'PAGE')"
            : "PHYSICAL_MEMORY_DESCRIPTOR.NumberOfRuns is \(runCount), at most \(layout.maxRuns) fit in the header")
      }
      return header
    }
    header.numberOfPages = try ptr(layout.numberOfPages, "PHYSICAL_MEMORY_DESCRIPTOR.NumberOfPages")
    for i in 0..<UInt64(runCount) {
      let at = layout.firstRun + i * layout.runSize  // i < maxRuns: small
      header.runs.append(
        Run(
          basePage: try ptr(at, "PHYSICAL_MEMORY_RUN[\(i)].BasePage"),
          pageCount: try ptr(at + layout.pointerSize, "PHYSICAL_MEMORY_RUN[\(i)].PageCount")))
    }
    return header
  }
}
