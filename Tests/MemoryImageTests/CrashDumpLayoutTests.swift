// Pins every DUMP_HEADER64 / DUMP_HEADER32 field offset the reader uses. The offsets below are the
// documented ones: DUMP_HEADER64/32 of the Windows SDK metadata (windows-rs docs), the offset
// comments of kdmp-parser's HEADER64 (kdmp-parser-structs.h) and Volatility 3's crash64.json /
// crash.json. Each field gets a distinct value at its offset; the parsed header must return it.
// For 64-bit headers kdmp-parser parses the same file and must agree too.

import Foundation
import MemoryImage
import TestData
import Testing

struct HeaderField: Sendable, CustomStringConvertible {
  var name: String
  var offset: Int
  var width: Int
  var value: UInt64
  var read: @Sendable (CrashDumpHeader) -> UInt64?
  var description: String { "\(name)@0x\(String(offset, radix: 16))" }
}

enum HeaderTables {
  static let header64: [HeaderField] = [
    .init(name: "MajorVersion", offset: 0x0008, width: 4, value: 0xF) { UInt64($0.majorVersion) },
    .init(name: "MinorVersion", offset: 0x000C, width: 4, value: 19041) { UInt64($0.minorVersion) },
    .init(name: "DirectoryTableBase", offset: 0x0010, width: 8, value: 0x1AF000) { $0.directoryTableBase },
    .init(name: "PfnDatabase", offset: 0x0018, width: 8, value: 0xFFFF_FA80_0000_0000) { $0.pfnDataBase },
    .init(name: "PsLoadedModuleList", offset: 0x0020, width: 8, value: 0xFFFF_F803_6142_A1B0) { $0.psLoadedModuleList },
    .init(name: "PsActiveProcessHead", offset: 0x0028, width: 8, value: 0xFFFF_F803_6141_DF60) {
      $0.psActiveProcessHead
    },
    .init(name: "MachineImageType", offset: 0x0030, width: 4, value: 0x8664) { UInt64($0.machineImageType) },
    .init(name: "NumberProcessors", offset: 0x0034, width: 4, value: 6) { UInt64($0.numberProcessors) },
    .init(name: "BugCheckCode", offset: 0x0038, width: 4, value: 0x0000_00E2) { UInt64($0.bugCheckCode) },
    .init(name: "BugCheckParameter1", offset: 0x0040, width: 8, value: 0x1111) { $0.bugCheckParameters[0] },
    .init(name: "BugCheckParameter2", offset: 0x0048, width: 8, value: 0x2222) { $0.bugCheckParameters[1] },
    .init(name: "BugCheckParameter3", offset: 0x0050, width: 8, value: 0x3333) { $0.bugCheckParameters[2] },
    .init(name: "BugCheckParameter4", offset: 0x0058, width: 8, value: 0x4444) { $0.bugCheckParameters[3] },
    .init(name: "KdDebuggerDataBlock", offset: 0x0080, width: 8, value: 0xFFFF_F803_6140_0B20) {
      $0.kdDebuggerDataBlock
    },
    .init(name: "NumberOfRuns", offset: 0x0088, width: 4, value: 1) { UInt64($0.runs.count) },
    .init(name: "NumberOfPages", offset: 0x0090, width: 8, value: 1) { $0.numberOfPages },
    .init(name: "Run[0].BasePage", offset: 0x0098, width: 8, value: 0x10) { $0.runs.first?.basePage },
    .init(name: "Run[0].PageCount", offset: 0x00A0, width: 8, value: 1) { $0.runs.first?.pageCount },
    .init(name: "DumpType", offset: 0x0F98, width: 4, value: 1) { UInt64($0.dumpType) },
    .init(name: "RequiredDumpSpace", offset: 0x0FA0, width: 8, value: 0x3000) { $0.requiredDumpSpace },
    .init(name: "SystemTime", offset: 0x0FA8, width: 8, value: 0x01DB_08B1_2345_6789) { $0.systemTime },
    .init(name: "SystemUpTime", offset: 0x1030, width: 8, value: 0x0000_0012_3456_7890) { $0.systemUpTime },
    .init(name: "Attributes", offset: 0x1050, width: 4, value: 0x0000_0001) { UInt64($0.attributes) },
  ]

  static let header32: [HeaderField] = [
    .init(name: "MajorVersion", offset: 0x0008, width: 4, value: 0xF) { UInt64($0.majorVersion) },
    .init(name: "MinorVersion", offset: 0x000C, width: 4, value: 2600) { UInt64($0.minorVersion) },
    .init(name: "DirectoryTableBase", offset: 0x0010, width: 4, value: 0x0031_4020) { $0.directoryTableBase },
    .init(name: "PfnDataBase", offset: 0x0014, width: 4, value: 0x8080_0000) { $0.pfnDataBase },
    .init(name: "PsLoadedModuleList", offset: 0x0018, width: 4, value: 0x8055_A420) { $0.psLoadedModuleList },
    .init(name: "PsActiveProcessHead", offset: 0x001C, width: 4, value: 0x8055_A158) { $0.psActiveProcessHead },
    .init(name: "MachineImageType", offset: 0x0020, width: 4, value: 0x014C) { UInt64($0.machineImageType) },
    .init(name: "NumberProcessors", offset: 0x0024, width: 4, value: 2) { UInt64($0.numberProcessors) },
    .init(name: "BugCheckCode", offset: 0x0028, width: 4, value: 0x7F) { UInt64($0.bugCheckCode) },
    .init(name: "BugCheckParameter1", offset: 0x002C, width: 4, value: 0x11) { $0.bugCheckParameters[0] },
    .init(name: "BugCheckParameter2", offset: 0x0030, width: 4, value: 0x22) { $0.bugCheckParameters[1] },
    .init(name: "BugCheckParameter3", offset: 0x0034, width: 4, value: 0x33) { $0.bugCheckParameters[2] },
    .init(name: "BugCheckParameter4", offset: 0x0038, width: 4, value: 0x44) { $0.bugCheckParameters[3] },
    .init(name: "PaeEnabled", offset: 0x005C, width: 1, value: 1) { $0.paeEnabled.map { $0 ? 1 : 0 } },
    .init(name: "KdDebuggerDataBlock", offset: 0x0060, width: 4, value: 0x8054_5AE0) { $0.kdDebuggerDataBlock },
    .init(name: "NumberOfRuns", offset: 0x0064, width: 4, value: 1) { UInt64($0.runs.count) },
    .init(name: "NumberOfPages", offset: 0x0068, width: 4, value: 1) { $0.numberOfPages },
    .init(name: "Run[0].BasePage", offset: 0x006C, width: 4, value: 0x10) { $0.runs.first?.basePage },
    .init(name: "Run[0].PageCount", offset: 0x0070, width: 4, value: 1) { $0.runs.first?.pageCount },
    .init(name: "Attributes", offset: 0x08A0, width: 4, value: 1) { UInt64($0.attributes) },
    .init(name: "DumpType", offset: 0x0F88, width: 4, value: 1) { UInt64($0.dumpType) },
    .init(name: "RequiredDumpSpace", offset: 0x0FA0, width: 8, value: 0x2000) { $0.requiredDumpSpace },
    .init(name: "SystemUpTime", offset: 0x0FB8, width: 8, value: 0x0000_0001_2345_6789) { $0.systemUpTime },
    .init(name: "SystemTime", offset: 0x0FC0, width: 8, value: 0x01C7_0000_1234_5678) { $0.systemTime },
  ]

  /// A full dump with every table value at its offset and one page of data (PFN 0x10).
  static func file(_ table: [HeaderField], is64: Bool) -> [UInt8] {
    var b = DumpBuilder.blankHeader(is64: is64)
    for f in table {
      switch f.width {
      case 1: b.put(UInt8(truncatingIfNeeded: f.value), at: f.offset)
      case 4: b.put(UInt32(truncatingIfNeeded: f.value), at: f.offset)
      default: b.put(f.value, at: f.offset)
      }
    }
    if is64 { b.put(UInt32(0), at: 0x8C) }
    b.append(Fixtures.page(0x10))
    return b.data
  }
}

@Suite("Crash dump header layout")
struct CrashDumpLayoutTests {
  @Test("DUMP_HEADER64 offsets", arguments: HeaderTables.header64)
  func header64(_ field: HeaderField) throws {
    let image = try MemoryImageOpener.open(path: try Self.path64.get())
    let header = try #require(image.crashDumpHeader)
    #expect(header.is64Bit && header.signature == 0x4547_4150 && header.validDump == 0x3436_5544)
    #expect(field.read(header) == field.value)
  }

  @Test("DUMP_HEADER32 offsets", arguments: HeaderTables.header32)
  func header32(_ field: HeaderField) throws {
    let path = try Fixtures.write(HeaderTables.file(HeaderTables.header32, is64: false), name: "layout32.dmp")
    let image = try MemoryImageOpener.open(path: path)
    let header = try #require(image.crashDumpHeader)
    #expect(!header.is64Bit && header.validDump == 0x504D_5544)
    #expect(field.read(header) == field.value)
    #expect(image.statedPagingMode == .x86PAE)
  }

  static let path64 = Result {
    try Fixtures.write(HeaderTables.file(HeaderTables.header64, is64: true), name: "l64.dmp")
  }

  @Test("kdmp-parser reads the same DUMP_HEADER64 values")
  func kdmpAgrees() throws {
    let oracle = try Oracles.kdmp(try Self.path64.get())
    var compared = 0
    for f in HeaderTables.header64 {
      guard let v = oracle.extra[f.name] as? NSNumber else { continue }
      #expect(v.uint64Value == f.value, "\(f.name)")
      compared += 1
    }
    #expect(compared == 14)
    #expect(oracle.present == [0x10])
    #expect(oracle.pages[0x10] == Fixtures.page(0x10))
  }
}
