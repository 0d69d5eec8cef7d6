// Why a virtual address could not be translated or read: each case names the level and the entry.

import BinaryReading
import MemoryImage

/// What a not-present but valid Windows software PTE says about the page.
public enum PagedOutKind: String, Sendable {
  /// MMPTE_TRANSITION: the page is still in RAM on a standby/modified list (bit 11 set, bit 10 clear).
  case transition
  /// MMPTE_PROTOTYPE: the data is described by a prototype PTE (bit 10 set).
  case prototype
  /// MMPTE_SOFTWARE with a page-file offset: the page is in a paging file.
  case pagefile
  /// MMPTE_SOFTWARE with protection but no page-file offset: a zero page on first touch.
  case demandZero
}

/// A failed translation or virtual read.
public enum TranslationError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The entry at `entryAddress` of `level` is not present and is zero or not a valid software PTE.
  case notMapped(va: UInt64, level: PagingLevel, entryAddress: UInt64, entry: UInt64)
  /// The entry is not present but is a valid Windows software PTE (transition, prototype, page file).
  case pagedOut(va: UInt64, level: PagingLevel, entry: UInt64, kind: PagedOutKind)
  /// The address is not canonical for the mode (x64), or above 4 GiB (x86).
  case nonCanonical(va: UInt64)
  /// A page table or the data page is not in the image.
  case physical(va: UInt64, MemoryImageError)
  /// A table reference would recurse without end. The fixed-depth translation cannot produce it;
  /// it is kept for walkers that follow references beyond the hardware levels.
  case loop(va: UInt64)

  public var description: String {
    switch self {
    case .notMapped(let va, let level, let entryAddress, let entry):
      return
        "va \(Hex.format(va)): \(level.entryName) at \(Hex.format(entryAddress)) (entry \(Hex.format(entry))) not present"
    case .pagedOut(let va, let level, let entry, let kind):
      return "va \(Hex.format(va)): \(level.entryName) (entry \(Hex.format(entry))) is paged out (\(kind.rawValue))"
    case .nonCanonical(let va):
      return "va \(Hex.format(va)) is not canonical for this paging mode"
    case .physical(let va, let error):
      return "va \(Hex.format(va)): \(error.description)"
    case .loop(let va):
      return "va \(Hex.format(va)): page tables refer back to a table already on the walk"
    }
  }

  /// The virtual address the error is about.
  public var virtualAddress: UInt64 {
    switch self {
    case .notMapped(let va, _, _, _), .pagedOut(let va, _, _, _), .nonCanonical(let va), .physical(let va, _),
      .loop(let va):
      return va
    }
  }
}
