// The paging modes the builder writes tables for, each described by a table of levels (as in the
// Intel SDM vol. 3A, ch. 4 "Paging": 4.3 32-bit, 4.4 PAE, 4.5 4-level and 5-level).

/// A paging structure level: which address bits index it and which leaf size it may hold.
public struct PagingLevel: Sendable, Hashable {
  /// Name for messages (PML5, PML4, PDPT, PD, PT).
  public let name: String
  /// Lowest virtual-address bit of this level's index.
  public let shift: Int
  /// Number of index bits.
  public let bits: Int
  /// Whether an entry here may map a large page (PS bit 7) of size `1 << shift`.
  public let allowsLargePage: Bool
}

/// x86/x64 paging modes, as `MemoryImage.PagingMode` names them (raw values match).
public enum PageTableFormat: String, Sendable, CaseIterable {
  case x86 = "x86"
  case x86PAE = "x86-pae"
  case x64FourLevel = "x64-4level"
  case x64FiveLevel = "x64-5level"

  /// Levels from the root down (the CR3 table first).
  public var levels: [PagingLevel] {
    switch self {
    case .x86:
      return [
        PagingLevel(name: "PD", shift: 22, bits: 10, allowsLargePage: true),
        PagingLevel(name: "PT", shift: 12, bits: 10, allowsLargePage: false),
      ]
    case .x86PAE:
      return [
        PagingLevel(name: "PDPT", shift: 30, bits: 2, allowsLargePage: false),
        PagingLevel(name: "PD", shift: 21, bits: 9, allowsLargePage: true),
        PagingLevel(name: "PT", shift: 12, bits: 9, allowsLargePage: false),
      ]
    case .x64FourLevel, .x64FiveLevel:
      let four = [
        PagingLevel(name: "PML4", shift: 39, bits: 9, allowsLargePage: false),
        PagingLevel(name: "PDPT", shift: 30, bits: 9, allowsLargePage: true),
        PagingLevel(name: "PD", shift: 21, bits: 9, allowsLargePage: true),
        PagingLevel(name: "PT", shift: 12, bits: 9, allowsLargePage: false),
      ]
      if self == .x64FourLevel { return four }
      return [PagingLevel(name: "PML5", shift: 48, bits: 9, allowsLargePage: false)] + four
    }
  }

  /// Bytes per entry.
  public var entrySize: Int { self == .x86 ? 4 : 8 }

  /// Number of significant virtual-address bits (canonical form sign-extends above them).
  public var virtualAddressBits: Int {
    switch self {
    case .x86, .x86PAE: return 32
    case .x64FourLevel: return 48
    case .x64FiveLevel: return 57
    }
  }

  /// Physical-address bits of an entry (bits 12 … 51 on PAE/x64, 12 … 31 on x86).
  public var frameMask: UInt64 { self == .x86 ? 0xFFFF_F000 : 0x000F_FFFF_FFFF_F000 }

  /// The self-map index Windows uses by default in this mode: x86 PDE 0x300 (PTEs at 0xC0000000),
  /// PAE entries 0–3 of the last PD (PTEs at 0xC0000000, PDEs at 0xC0600000); for x64 a randomised PML4/PML5 slot
  /// (Windows 10 1607+), here 0x1A4 by default so nothing relies on the old fixed 0x1ED.
  public var defaultSelfReferenceIndex: Int {
    switch self {
    case .x86: return 0x300
    case .x86PAE: return 0
    case .x64FourLevel, .x64FiveLevel: return 0x1A4
    }
  }
}

/// Sizes of the pages the builder maps.
public enum PageSize: UInt64, Sendable, CaseIterable {
  case size4K = 0x1000
  case size2M = 0x20_0000
  case size4M = 0x40_0000
  case size1G = 0x4000_0000
}

/// Access rights of a mapping.
public struct PageFlags: OptionSet, Sendable, Hashable {
  public let rawValue: UInt8
  public init(rawValue: UInt8) { self.rawValue = rawValue }
  /// R/W bit 1.
  public static let writable = PageFlags(rawValue: 1)
  /// U/S bit 2.
  public static let user = PageFlags(rawValue: 2)
  /// XD bit 63 (PAE and x64 only).
  public static let noExecute = PageFlags(rawValue: 4)
  /// G bit 8.
  public static let global = PageFlags(rawValue: 8)
}
