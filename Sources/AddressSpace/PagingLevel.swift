// The table of paging levels per mode that drives every page walk (one walker, many modes).
// Layouts: Intel SDM Vol. 3A §4.3 (32-bit paging), §4.4 (PAE), §4.5 (4- and 5-level paging).

import MemoryImage

/// One level of a paging hierarchy: which virtual-address bits index it and what its entries may map.
public struct PagingLevel: Sendable, Hashable, CustomStringConvertible {
  /// Table name: `PML5`, `PML4`, `PDPT`, `PD`, `PT`.
  public let name: String
  /// Lowest virtual-address bit of this level's index (also log2 of the size one entry covers).
  public let shift: Int
  /// Number of index bits.
  public let indexBits: Int
  /// Whether an entry with the PS bit (7) set maps a large page here.
  public let largePageAllowed: Bool
  /// Whether entries carry R/W, U/S and NX bits (not so for PAE PDPTEs, where they are reserved).
  public let hasAccessBits: Bool

  public init(name: String, shift: Int, indexBits: Int, largePageAllowed: Bool, hasAccessBits: Bool = true) {
    self.name = name
    self.shift = shift
    self.indexBits = indexBits
    self.largePageAllowed = largePageAllowed
    self.hasAccessBits = hasAccessBits
  }

  /// Name of one entry of this table for messages: `PML4E`, `PDPTE`, `PDE`, `PTE`.
  public var entryName: String { name == "PT" ? "PTE" : name + "E" }
  /// Number of entries in the table.
  public var entryCount: Int { 1 << indexBits }
  /// Bytes of virtual address space one entry covers.
  public var entrySpan: UInt64 { 1 << UInt64(shift) }
  /// This level's index in `va`.
  @inlinable public func index(of va: UInt64) -> Int {
    Int(truncatingIfNeeded: (va >> UInt64(shift)) & ((1 << UInt64(indexBits)) - 1))
  }

  public var description: String { name }

  // x64 (SDM §4.5): 9 index bits per level.
  public static let pml5 = PagingLevel(name: "PML5", shift: 48, indexBits: 9, largePageAllowed: false)
  public static let pml4 = PagingLevel(name: "PML4", shift: 39, indexBits: 9, largePageAllowed: false)
  public static let pdpt = PagingLevel(name: "PDPT", shift: 30, indexBits: 9, largePageAllowed: true)  // 1 GiB
  public static let pd = PagingLevel(name: "PD", shift: 21, indexBits: 9, largePageAllowed: true)  // 2 MiB
  public static let pt = PagingLevel(name: "PT", shift: 12, indexBits: 9, largePageAllowed: false)
  // PAE (SDM §4.4): a 4-entry PDPT whose entries have no access bits, then 9-bit PD and PT.
  public static let pdptPAE = PagingLevel(
    name: "PDPT", shift: 30, indexBits: 2, largePageAllowed: false, hasAccessBits: false)
  // 32-bit paging (SDM §4.3): 10-bit PD (4 MiB PSE pages) and PT.
  public static let pd32 = PagingLevel(name: "PD", shift: 22, indexBits: 10, largePageAllowed: true)
  public static let pt32 = PagingLevel(name: "PT", shift: 12, indexBits: 10, largePageAllowed: false)
}

/// Everything the walker needs to know about a paging mode.
public struct PagingLayout: Sendable, Hashable {
  /// Levels from the root table down to the page table.
  public let levels: [PagingLevel]
  /// Bytes per entry: 8, or 4 for 32-bit paging.
  public let entrySize: Int
  /// Implemented virtual-address bits: 57, 48 (canonical, sign-extended) or 32.
  public let virtualBits: Int
  /// Whether virtual addresses are sign-extended from bit `virtualBits - 1` (x64).
  public let signExtended: Bool
  /// Mask of a table address in a non-leaf entry (bits 12..51 for 8-byte entries, 12..31 for 4-byte).
  public let frameMask: UInt64
  /// Mask turning the directory table base into the root table's address (PAE: 32-byte aligned).
  public let rootMask: UInt64
  /// Mask of the page frame in a Windows transition PTE (MMPTE_TRANSITION.PageFrameNumber).
  public let transitionFrameMask: UInt64
  /// Lowest bit of MMPTE_SOFTWARE.PageFileHigh (32 with 8-byte entries, 12 with 4-byte ones).
  public let pageFileHighShift: Int

  /// The layout of `mode`.
  public static func of(_ mode: PagingMode) -> PagingLayout {
    switch mode {
    case .x64FourLevel: return x64FourLevel
    case .x64FiveLevel: return x64FiveLevel
    case .x86PAE: return x86PAE
    case .x86: return x86
    }
  }

  // Frame bits 12..51 (SDM: MAXPHYADDR ≤ 52); transition PFN: MMPTE_TRANSITION.PageFrameNumber, bits 12..47
  // (ntkrnlmp 10.0.19041 public symbols; the same 36-bit field the Volatility 3 Windows layer masks to).
  static let x64FourLevel = PagingLayout(
    levels: [.pml4, .pdpt, .pd, .pt], entrySize: 8, virtualBits: 48, signExtended: true,
    frameMask: 0x000f_ffff_ffff_f000, rootMask: 0x000f_ffff_ffff_f000, transitionFrameMask: 0x0000_ffff_ffff_f000,
    pageFileHighShift: 32)
  static let x64FiveLevel = PagingLayout(
    levels: [.pml5, .pml4, .pdpt, .pd, .pt], entrySize: 8, virtualBits: 57, signExtended: true,
    frameMask: 0x000f_ffff_ffff_f000, rootMask: 0x000f_ffff_ffff_f000, transitionFrameMask: 0x0000_ffff_ffff_f000,
    pageFileHighShift: 32)
  static let x86PAE = PagingLayout(
    levels: [.pdptPAE, .pd, .pt], entrySize: 8, virtualBits: 32, signExtended: false,
    frameMask: 0x000f_ffff_ffff_f000, rootMask: 0x0000_0000_ffff_ffe0, transitionFrameMask: 0x0000_ffff_ffff_f000,
    pageFileHighShift: 32)
  static let x86 = PagingLayout(
    levels: [.pd32, .pt32], entrySize: 4, virtualBits: 32, signExtended: false,
    frameMask: 0xffff_f000, rootMask: 0xffff_f000, transitionFrameMask: 0xffff_f000, pageFileHighShift: 12)

  /// Whether `va` is canonical (x64) or fits in 32 bits (x86).
  @inlinable public func isCanonical(_ va: UInt64) -> Bool {
    if signExtended {
      let top = Int64(bitPattern: va) >> Int64(virtualBits - 1)
      return top == 0 || top == -1
    }
    return va >> UInt64(virtualBits) == 0
  }

  /// `va` with the bits above `virtualBits` filled from its sign bit (x64), else unchanged.
  @inlinable public func canonicalize(_ va: UInt64) -> UInt64 {
    guard signExtended else { return va }
    let unused = UInt64(64 - virtualBits)
    return UInt64(bitPattern: Int64(bitPattern: va << unused) >> Int64(unused))
  }
}

extension PagingMode {
  /// The level table and masks of this mode.
  public var layout: PagingLayout { PagingLayout.of(self) }
  /// The levels walked, root first.
  public var levels: [PagingLevel] { layout.levels }
}
