// The header of a Windows kernel crash dump (DUMP_HEADER64 / DUMP_HEADER32): the facts the
// dumping kernel stated about itself. Parsing lives in CrashDumpHeader+Parsing.swift.

/// Fields of a Windows crash-dump header (64-bit `PAGEDU64` or 32-bit `PAGEDUMP`).
public struct CrashDumpHeader: Sendable, Hashable {
  /// One physical-memory run of the header's PHYSICAL_MEMORY_DESCRIPTOR, in pages.
  public struct Run: Sendable, Hashable {
    public var basePage: UInt64
    public var pageCount: UInt64
    public init(basePage: UInt64, pageCount: UInt64) {
      self.basePage = basePage
      self.pageCount = pageCount
    }
  }

  /// `PAGE` (0x4547_4150).
  public var signature: UInt32
  /// `DU64` (0x3436_5544) for 64-bit dumps, `DUMP` (0x504D_5544) for 32-bit ones.
  public var validDump: UInt32
  /// Whether this is a 64-bit header (`DU64`).
  public var is64Bit: Bool
  /// 0xF for a free build, 0xC for a checked one.
  public var majorVersion: UInt32
  /// The Windows build number.
  public var minorVersion: UInt32
  /// CR3 of the process that was current at the dump.
  public var directoryTableBase: UInt64
  public var pfnDataBase: UInt64
  public var psLoadedModuleList: UInt64
  public var psActiveProcessHead: UInt64
  /// IMAGE_FILE_MACHINE_*: 0x8664 (AMD64) or 0x14C (i386).
  public var machineImageType: UInt32
  public var numberProcessors: UInt32
  public var bugCheckCode: UInt32
  /// The four bug-check parameters.
  public var bugCheckParameters: [UInt64]
  public var kdDebuggerDataBlock: UInt64
  /// DumpType: 1 full, 2 kernel (summary), 5 bitmap, 6 live-kernel bitmap, 8/9/10 RDMP, 4 mini.
  public var dumpType: UInt32
  public var requiredDumpSpace: UInt64
  /// FILETIME of the dump (100 ns since 1601).
  public var systemTime: UInt64
  public var systemUpTime: UInt64
  /// DUMP_FILE_ATTRIBUTES.
  public var attributes: UInt32
  /// PaeEnabled byte of 32-bit headers (nil for 64-bit).
  public var paeEnabled: Bool?
  /// NumberOfPages of the physical-memory descriptor (nil when the descriptor is not filled in).
  public var numberOfPages: UInt64?
  /// The physical-memory runs of the descriptor (empty when not filled in).
  public var runs: [Run]
  /// File offset and size of the CONTEXT record area.
  public var contextRecordOffset: UInt64
  public var contextRecordSize: Int

  /// `PAGE` as a little-endian UInt32.
  public static let signaturePage: UInt32 = 0x4547_4150
  /// `DU64`.
  public static let validDump64: UInt32 = 0x3436_5544
  /// `DUMP`.
  public static let validDump32: UInt32 = 0x504D_5544
  /// IMAGE_FILE_MACHINE_AMD64.
  public static let machineAMD64: UInt32 = 0x8664
  /// IMAGE_FILE_MACHINE_I386.
  public static let machineI386: UInt32 = 0x014C

  /// The paging mode the header implies: AMD64 → 4-level; i386 → PAE when PaeEnabled, else x86.
  public var pagingMode: PagingMode? {
    switch machineImageType {
    case Self.machineAMD64: return .x64FourLevel
    case Self.machineI386: return paeEnabled == true ? .x86PAE : .x86
    default: return nil
    }
  }

  /// DirectoryTableBase reduced to the table root for `pagingMode`.
  public var tableRoot: UInt64 {
    switch pagingMode {
    case .x86PAE: return directoryTableBase & 0xFFFF_FFE0
    case .x86: return directoryTableBase & 0xFFFF_F000
    default: return directoryTableBase & 0x000F_FFFF_FFFF_F000
    }
  }
}
