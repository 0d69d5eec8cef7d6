// Windows x64 software (not-present) PTEs, for tests of paged-out memory. Bit layouts from the
// public ntkrnlmp.pdb types _MMPTE_TRANSITION, _MMPTE_PROTOTYPE and _MMPTE_SOFTWARE (Windows 10
// 19041; e.g. the Volatility 3 ISF 3177D31000BA7590DED335936C93E374-1): Valid 0, Protection 5–9,
// Prototype 10, Transition 11, PageFrameNumber 12–47, ProtoAddress 16–63, PageFileLow 12–15,
// PageFileHigh 32–63.

/// A not-present x64 PTE as Windows writes it.
public enum SoftwarePTE: Sendable, Hashable {
  /// The page is still in physical frame `pageFrame` (on a standby/modified list).
  case transition(pageFrame: UInt64, protection: UInt8 = 4)
  /// The PTE refers to a prototype PTE at kernel virtual address `prototypeAddress`.
  case prototype(prototypeAddress: UInt64, protection: UInt8 = 0)
  /// The page is in paging file `pageFile` (0–15) at page `pageOffset` (offset / 0x1000).
  case pageFile(pageFile: UInt8, pageOffset: UInt32, protection: UInt8 = 4)
  /// Demand-zero: no data anywhere yet.
  case demandZero(protection: UInt8 = 4)

  /// Protection 4 is MM_READWRITE (the usual value for data pages).
  public static let readWrite: UInt8 = 4

  /// The 64-bit entry value.
  public func encoded() throws -> UInt64 {
    switch self {
    case .transition(let frame, let protection):
      guard frame < 1 << 36 else { throw ImageBuilderError.valueTooLarge(what: "PFN", value: frame, limit: 1 << 36) }
      return try Self.protectionBits(protection) | 1 << 11 | frame << 12
    case .prototype(let address, let protection):
      // ProtoAddress is the low 48 bits of the (canonical, sign-extended) address.
      return try Self.protectionBits(protection) | 1 << 10 | (address & 0x0000_FFFF_FFFF_FFFF) << 16
    case .pageFile(let file, let offset, let protection):
      guard file < 16 else {
        throw ImageBuilderError.valueTooLarge(what: "page file number", value: UInt64(file), limit: 15)
      }
      return try Self.protectionBits(protection) | UInt64(file) << 12 | UInt64(offset) << 32
    case .demandZero(let protection):
      return try Self.protectionBits(protection)
    }
  }

  private static func protectionBits(_ protection: UInt8) throws -> UInt64 {
    guard protection < 32 else {
      throw ImageBuilderError.valueTooLarge(what: "protection", value: UInt64(protection), limit: 31)
    }
    return UInt64(protection) << 5
  }
}
