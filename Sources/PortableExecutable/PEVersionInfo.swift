// The version resource as values: VS_FIXEDFILEINFO's numbers and the StringFileInfo tables.
// Parsing is in PEVersionInfo+Parsing.swift.

/// A four-part version `major.minor.build.revision`, as in VS_FIXEDFILEINFO (two DWORDs, MS and LS).
public struct PEVersionNumber: Sendable, Equatable, Comparable, CustomStringConvertible {
  /// High word of the MS DWORD.
  public let major: UInt16
  /// Low word of the MS DWORD.
  public let minor: UInt16
  /// High word of the LS DWORD.
  public let build: UInt16
  /// Low word of the LS DWORD.
  public let revision: UInt16

  /// Builds a version from its four parts.
  public init(major: UInt16, minor: UInt16, build: UInt16, revision: UInt16) {
    self.major = major
    self.minor = minor
    self.build = build
    self.revision = revision
  }

  /// Builds a version from the MS and LS DWORDs of VS_FIXEDFILEINFO.
  public init(ms: UInt32, ls: UInt32) {
    self.init(
      major: UInt16(truncatingIfNeeded: ms >> 16), minor: UInt16(truncatingIfNeeded: ms),
      build: UInt16(truncatingIfNeeded: ls >> 16), revision: UInt16(truncatingIfNeeded: ls))
  }

  /// `"10.0.19041.1415"`.
  public var description: String { "\(major).\(minor).\(build).\(revision)" }

  public static func < (a: PEVersionNumber, b: PEVersionNumber) -> Bool {
    (a.major, a.minor, a.build, a.revision) < (b.major, b.minor, b.build, b.revision)
  }
}

/// VS_FIXEDFILEINFO (52 bytes, signature 0xFEEF04BD).
public struct PEFixedFileInfo: Sendable, Equatable {
  /// dwFileVersionMS/LS.
  public let fileVersion: PEVersionNumber
  /// dwProductVersionMS/LS.
  public let productVersion: PEVersionNumber
  /// dwFileFlagsMask.
  public let fileFlagsMask: UInt32
  /// dwFileFlags (VS_FF_DEBUG, VS_FF_PRERELEASE …).
  public let fileFlags: UInt32
  /// dwFileOS (VOS_NT_WINDOWS32 = 0x40004 …).
  public let fileOS: UInt32
  /// dwFileType (VFT_APP 1, VFT_DLL 2, VFT_DRV 3 …).
  public let fileType: UInt32
  /// dwFileSubtype.
  public let fileSubtype: UInt32
  /// dwFileDateMS/LS as one 64-bit value.
  public let fileDate: UInt64
}

/// One key/value pair of a StringTable (a `String` structure).
public struct PEVersionString: Sendable, Equatable {
  /// The key, e.g. `CompanyName`.
  public let key: String
  /// The value, e.g. `Microsoft Corporation`.
  public let value: String

  /// Builds a pair.
  public init(key: String, value: String) {
    self.key = key
    self.value = value
  }
}

/// One StringTable of StringFileInfo: a language/code page and its strings.
public struct PEStringTable: Sendable, Equatable {
  /// Eight hex digits, language then code page, e.g. `040904B0`.
  public let key: String
  /// The strings in file order.
  public let strings: [PEVersionString]
}

/// The version resource (VS_VERSIONINFO).
public struct PEVersionInfo: Sendable, Equatable {
  /// The fixed part, when the resource has one.
  public let fixed: PEFixedFileInfo?
  /// The StringFileInfo tables in file order.
  public let stringTables: [PEStringTable]
  /// VarFileInfo's Translation values (language in the low word, code page in the high word).
  public let translations: [UInt32]

  /// The file version of the fixed part, e.g. `10.0.19041.1415`.
  public var fileVersion: PEVersionNumber? { fixed?.fileVersion }
  /// The product version of the fixed part.
  public var productVersion: PEVersionNumber? { fixed?.productVersion }

  /// Key → value over all tables; the first table holding a key wins.
  public var strings: [String: String] {
    var result: [String: String] = [:]
    for table in stringTables {
      for s in table.strings where result[s.key] == nil { result[s.key] = s.value }
    }
    return result
  }

  /// The value of `key` in the first table that has it.
  public func string(_ key: String) -> String? {
    for table in stringTables {
      if let s = table.strings.first(where: { $0.key == key }) { return s.value }
    }
    return nil
  }
}
