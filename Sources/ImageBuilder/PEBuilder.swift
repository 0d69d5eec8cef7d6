// The description of a PE image to synthesise: machine, sections and the directories the readers
// look at (exports, CodeView debug record, version resource, exception data). `build()` (in
// PEBuilder+Build.swift) lays it out; formats from the Microsoft PE/COFF specification.

import BinaryReading

/// A minimal but valid PE32+ (x64) or PE32 (x86) image, described declaratively.
public struct PEBuilder: Sendable {
  /// IMAGE_FILE_HEADER.Machine values (PE/COFF spec §3.3.1).
  public enum Machine: UInt16, Sendable {
    case amd64 = 0x8664
    case i386 = 0x014C
  }

  /// A section and its initial bytes.
  public struct Section: Sendable, Hashable {
    public var name: String
    public var characteristics: UInt32
    public var contents: [UInt8]
    /// In-memory size; at least `contents.count` (the rest is zero-filled).
    public var virtualSize: Int?
    public init(name: String, characteristics: UInt32, contents: [UInt8], virtualSize: Int? = nil) {
      self.name = name
      self.characteristics = characteristics
      self.contents = contents
      self.virtualSize = virtualSize
    }
    /// IMAGE_SCN_CNT_CODE | MEM_EXECUTE | MEM_READ.
    public static let code: UInt32 = 0x6000_0020
    /// Code that is discarded after initialisation (INIT): code | MEM_DISCARDABLE.
    public static let discardableCode: UInt32 = 0x6200_0020
    /// IMAGE_SCN_CNT_INITIALIZED_DATA | MEM_READ.
    public static let readOnlyData: UInt32 = 0x4000_0040
    /// IMAGE_SCN_CNT_INITIALIZED_DATA | MEM_READ | MEM_WRITE.
    public static let readWriteData: UInt32 = 0xC000_0040
  }

  /// A place in the image: `offset` bytes into section `section`.
  public struct Location: Sendable, Hashable {
    public var section: String
    public var offset: Int
    public init(section: String, offset: Int) {
      self.section = section
      self.offset = offset
    }
  }

  /// One exported symbol.
  public struct Export: Sendable, Hashable {
    /// What the export resolves to.
    public enum Target: Sendable, Hashable {
      case location(Location)
      /// A forwarder string such as `NTDLL.RtlAllocateHeap`.
      case forwarder(String)
    }
    /// Name, or nil for an ordinal-only export.
    public var name: String?
    /// Ordinal, or nil for the next free one.
    public var ordinal: UInt32?
    public var target: Target
    public init(name: String?, ordinal: UInt32? = nil, target: Target) {
      self.name = name
      self.ordinal = ordinal
      self.target = target
    }
  }

  /// A CodeView RSDS record: PDB path, GUID (16 bytes as stored in the file) and age.
  public struct CodeView: Sendable, Hashable {
    public var pdbName: String
    public var guid: [UInt8]
    public var age: UInt32
    public init(pdbName: String, guid: [UInt8], age: UInt32) {
      self.pdbName = pdbName
      self.guid = guid
      self.age = age
    }
    /// From the symbol-store form of the GUID (32 hex digits: Data1, Data2, Data3 as numbers, then Data4).
    public init(pdbName: String, storeGUID: String, age: UInt32) throws {
      self.init(pdbName: pdbName, guid: try GUIDText.rawBytes(fromStoreForm: storeGUID), age: age)
    }
    /// The GUID in symbol-store order (uppercase, 32 hex digits).
    public var storeGUID: String { GUIDText.storeForm(guid) }
  }

  /// A VS_VERSIONINFO resource.
  public struct VersionInfo: Sendable, Hashable {
    /// Four parts, e.g. [10, 0, 19041, 1415].
    public var fileVersion: [UInt16]
    public var productVersion: [UInt16]
    /// StringFileInfo entries (language 0409, code page 04B0), in order.
    public var strings: [(key: String, value: String)]
    /// VS_FIXEDFILEINFO.dwFileType (1 VFT_APP, 2 VFT_DLL, 3 VFT_DRV).
    public var fileType: UInt32
    /// VS_FIXEDFILEINFO.dwFileSubtype (7 VFT2_DRV_SYSTEM for drivers).
    public var fileSubtype: UInt32
    public init(
      fileVersion: [UInt16], productVersion: [UInt16]? = nil, strings: [(key: String, value: String)],
      fileType: UInt32 = 3, fileSubtype: UInt32 = 7
    ) {
      self.fileVersion = fileVersion
      self.productVersion = productVersion ?? fileVersion
      self.strings = strings
      self.fileType = fileType
      self.fileSubtype = fileSubtype
    }
    public static func == (a: VersionInfo, b: VersionInfo) -> Bool {
      a.fileVersion == b.fileVersion && a.productVersion == b.productVersion && a.fileType == b.fileType
        && a.fileSubtype == b.fileSubtype && a.strings.map(\.key) == b.strings.map(\.key)
        && a.strings.map(\.value) == b.strings.map(\.value)
    }
    public func hash(into hasher: inout Hasher) {
      hasher.combine(fileVersion)
      hasher.combine(strings.map(\.key))
      hasher.combine(strings.map(\.value))
    }
  }

  /// An x64 function with an exception-table (.pdata) entry: `[start, end)` in section `section`.
  public struct Function: Sendable, Hashable {
    public var section: String
    public var start: Int
    public var end: Int
    public init(section: String, start: Int, end: Int) {
      self.section = section
      self.start = start
      self.end = end
    }
  }

  public var machine: Machine
  public var imageBase: UInt64
  public var sectionAlignment: UInt32 = 0x1000
  public var fileAlignment: UInt32 = 0x200
  public var timeDateStamp: UInt32 = 0x5F1C_4B2A
  /// IMAGE_FILE_HEADER.Characteristics (0x22: EXECUTABLE_IMAGE | LARGE_ADDRESS_AWARE, like ntoskrnl).
  public var characteristics: UInt16
  /// Subsystem (1 NATIVE for kernel images, 3 WINDOWS_CUI).
  public var subsystem: UInt16 = 1
  public var dllCharacteristics: UInt16 = 0x4160
  public var entryPoint: Location?
  public var sections: [Section]
  /// Name written in the export directory (e.g. `ntoskrnl.exe`).
  public var exportName: String?
  public var exports: [Export] = []
  public var ordinalBase: UInt32 = 1
  public var codeView: CodeView?
  public var versionInfo: VersionInfo?
  public var functions: [Function] = []
  /// The section the export and debug directories are appended to (created if absent).
  public var directorySection: String = ".rdata"

  /// An empty description for `machine` loaded at `imageBase`.
  public init(machine: Machine = .amd64, imageBase: UInt64, sections: [Section] = []) {
    self.machine = machine
    self.imageBase = imageBase
    self.sections = sections
    self.characteristics = machine == .amd64 ? 0x0022 : 0x0102
  }
}

/// GUID text forms (the symbol-store key writes Data1–Data3 as little-endian numbers).
public enum GUIDText {
  /// 32 uppercase hex digits in store order from the 16 stored bytes.
  public static func storeForm(_ raw: [UInt8]) -> String {
    guard raw.count == 16 else { return Hex.upper(raw) }
    let reordered = [raw[3], raw[2], raw[1], raw[0], raw[5], raw[4], raw[7], raw[6]] + raw[8..<16]
    return Hex.upper(Array(reordered))
  }

  /// The 16 stored bytes from 32 hex digits in store order.
  public static func rawBytes(fromStoreForm text: String) throws -> [UInt8] {
    let digits = Array(text.utf8)
    guard digits.count == 32 else { throw ImageBuilderError.invalid("GUID \(text) is not 32 hex digits") }
    var bytes: [UInt8] = []
    for i in stride(from: 0, to: 32, by: 2) {
      guard let byte = UInt8(String(decoding: digits[i..<(i + 2)], as: UTF8.self), radix: 16) else {
        throw ImageBuilderError.invalid("GUID \(text) is not hex")
      }
      bytes.append(byte)
    }
    return [bytes[3], bytes[2], bytes[1], bytes[0], bytes[5], bytes[4], bytes[7], bytes[6]] + bytes[8..<16]
  }
}
