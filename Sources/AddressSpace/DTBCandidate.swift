// A directory table base found by scanning physical memory, with why it was chosen.

import MemoryImage

/// A possible directory table base, ranked by `score` (higher is better).
public struct DTBCandidate: Sendable, Hashable {
  /// Physical address of the root table (a page for x64 and 32-bit paging; the 32-byte PDPT for PAE).
  public let dtb: UInt64
  /// The paging mode the tables were recognised in.
  public let mode: PagingMode
  /// Plausibility score; low-stub-confirmed candidates score above 1000.
  public let score: Int
  /// Human-readable evidence, e.g. "PML4 self-reference at index 0x1ed; 12 kernel-half entries present".
  public let reason: String
  /// Index of the self-referencing entry (the PML4E, the PDE 0x300, or the PAE PD entry 3), if one was found.
  public let selfRefIndex: Int?

  public init(dtb: UInt64, mode: PagingMode, score: Int, reason: String, selfRefIndex: Int?) {
    self.dtb = dtb
    self.mode = mode
    self.score = score
    self.reason = reason
    self.selfRefIndex = selfRefIndex
  }
}
