// The PE headers as values: DOS header, COFF file header, optional header, data directories and
// section headers. Layouts: Microsoft, "PE Format" (learn.microsoft.com/windows/win32/debug/pe-format),
// sections "MS-DOS Stub (Image Only)", "COFF File Header (Object and Image)", "Optional Header
// (Image Only)", "Optional Header Data Directories (Image Only)" and "Section Table (Section Headers)".
// Parsing lives in PEHeaders+Parsing.swift.

/// The MS-DOS header (`IMAGE_DOS_HEADER`, 64 bytes): only the fields a PE reader uses.
public struct PEDOSHeader: Sendable, Equatable {
  /// `e_magic`, 0x5A4D ("MZ").
  public let magic: UInt16
  /// `e_lfanew` (offset 0x3C): file offset of the `PE\0\0` signature.
  public let newHeaderOffset: UInt32
}

/// The COFF file header (`IMAGE_FILE_HEADER`, 20 bytes after the PE signature).
public struct COFFFileHeader: Sendable, Equatable {
  /// Target machine, e.g. 0x8664 (AMD64), 0x014C (I386), 0xAA64 (ARM64).
  public let machine: UInt16
  /// Number of section headers (the Windows loader accepts at most 96).
  public let numberOfSections: UInt16
  /// Link time, seconds since 1970-01-01 UTC (or a hash in reproducible builds).
  public let timeDateStamp: UInt32
  /// File offset of the COFF symbol table (0 in most images).
  public let pointerToSymbolTable: UInt32
  /// Number of COFF symbol-table entries.
  public let numberOfSymbols: UInt32
  /// Size of the optional header that follows.
  public let sizeOfOptionalHeader: UInt16
  /// `IMAGE_FILE_*` flags (0x2000 DLL, 0x0002 executable …).
  public let characteristics: UInt16
}

/// Machine types of the COFF file header ("Machine Types" in the PE Format document).
public enum COFFMachine {
  /// IMAGE_FILE_MACHINE_I386.
  public static let i386: UInt16 = 0x014C
  /// IMAGE_FILE_MACHINE_AMD64.
  public static let amd64: UInt16 = 0x8664
  /// IMAGE_FILE_MACHINE_ARM64.
  public static let arm64: UInt16 = 0xAA64
  /// IMAGE_FILE_MACHINE_ARMNT (Thumb-2).
  public static let armNT: UInt16 = 0x01C4
}

/// The optional header's magic: which of the two layouts follows.
public enum PEOptionalHeaderMagic: UInt16, Sendable {
  /// 0x10B, 32-bit image (PE32).
  case pe32 = 0x010B
  /// 0x20B, 64-bit image (PE32+).
  case pe32Plus = 0x020B
}

/// One data directory: an RVA and a size (the certificate table's "RVA" is a file offset).
public struct PEDataDirectory: Sendable, Equatable {
  /// Relative virtual address of the table (0 when absent).
  public let rva: UInt32
  /// Size of the table in bytes.
  public let size: UInt32
  /// Whether the directory is present (non-zero RVA and size).
  public var isPresent: Bool { rva != 0 && size != 0 }
}

/// Indexes of the data directories ("Optional Header Data Directories").
public enum PEDirectoryIndex: Int, Sendable, CaseIterable {
  case export = 0, `import`, resource, exception, certificate, baseRelocation, debug, architecture
  case globalPointer, tls, loadConfig, boundImport, importAddressTable, delayImport, clrRuntime, reserved
}

/// The optional header (`IMAGE_OPTIONAL_HEADER32` / `IMAGE_OPTIONAL_HEADER64`), both layouts in one value.
public struct PEOptionalHeader: Sendable, Equatable {
  /// PE32 or PE32+.
  public let magic: PEOptionalHeaderMagic
  /// Linker version.
  public let majorLinkerVersion: UInt8
  /// Linker version.
  public let minorLinkerVersion: UInt8
  /// Size of all code sections.
  public let sizeOfCode: UInt32
  /// RVA of the entry point (0 for a DLL without one).
  public let addressOfEntryPoint: UInt32
  /// RVA of the start of code.
  public let baseOfCode: UInt32
  /// Preferred load address (32-bit value widened for PE32).
  public let imageBase: UInt64
  /// Alignment of sections in memory.
  public let sectionAlignment: UInt32
  /// Alignment of raw section data in the file.
  public let fileAlignment: UInt32
  /// Required operating-system version.
  public let majorOperatingSystemVersion: UInt16
  /// Required operating-system version.
  public let minorOperatingSystemVersion: UInt16
  /// Image version.
  public let majorImageVersion: UInt16
  /// Image version.
  public let minorImageVersion: UInt16
  /// Subsystem version.
  public let majorSubsystemVersion: UInt16
  /// Subsystem version.
  public let minorSubsystemVersion: UInt16
  /// Size of the image in memory, headers included, a multiple of SectionAlignment.
  public let sizeOfImage: UInt32
  /// Size of the DOS stub, PE header and section headers, rounded to FileAlignment.
  public let sizeOfHeaders: UInt32
  /// Image checksum (drivers must have a valid one).
  public let checkSum: UInt32
  /// Subsystem (1 native, 2 Windows GUI, 3 Windows CUI …).
  public let subsystem: UInt16
  /// `IMAGE_DLLCHARACTERISTICS_*` flags.
  public let dllCharacteristics: UInt16
  /// Stack reserve size.
  public let sizeOfStackReserve: UInt64
  /// Stack commit size.
  public let sizeOfStackCommit: UInt64
  /// Heap reserve size.
  public let sizeOfHeapReserve: UInt64
  /// Heap commit size.
  public let sizeOfHeapCommit: UInt64
  /// NumberOfRvaAndSizes as stored (the directories kept are at most 16).
  public let numberOfRvaAndSizes: UInt32
  /// The data directories, indexed by `PEDirectoryIndex` (at most 16).
  public let dataDirectories: [PEDataDirectory]

  /// The data directory at `index`, or nil if the header has fewer directories.
  public func directory(_ index: PEDirectoryIndex) -> PEDataDirectory? {
    index.rawValue < dataDirectories.count ? dataDirectories[index.rawValue] : nil
  }
}

/// One section header (`IMAGE_SECTION_HEADER`, 40 bytes).
public struct PESection: Sendable, Equatable {
  /// The name: the 8-byte field up to its first NUL, or the long name a `/n` entry points to in
  /// the COFF string table (resolved for the file layout only).
  public let name: String
  /// The 8 bytes of the Name field as stored.
  public let rawName: [UInt8]
  /// Size in memory (may be 0 in some linkers' output, then SizeOfRawData counts).
  public let virtualSize: UInt32
  /// RVA of the section.
  public let virtualAddress: UInt32
  /// Size of the initialised data in the file.
  public let sizeOfRawData: UInt32
  /// File offset of the section's data.
  public let pointerToRawData: UInt32
  /// File offset of COFF relocations (0 in images).
  public let pointerToRelocations: UInt32
  /// File offset of COFF line numbers (deprecated).
  public let pointerToLinenumbers: UInt32
  /// Number of COFF relocations.
  public let numberOfRelocations: UInt16
  /// Number of COFF line numbers.
  public let numberOfLinenumbers: UInt16
  /// `IMAGE_SCN_*` flags (0x20000000 execute, 0x40000000 read, 0x80000000 write …).
  public let characteristics: UInt32

  /// Whether the section is executable (IMAGE_SCN_MEM_EXECUTE).
  public var isExecutable: Bool { characteristics & 0x2000_0000 != 0 }
}
