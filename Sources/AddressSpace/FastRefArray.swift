// Arrays of EX_FAST_REF slots (the process/thread/image notify arrays, PopCoalescingCallbackRoutine,
// CmpCallBackVector): each slot is a pointer whose low bits hold a reference count — 4 bits on x64,
// 3 on x86 (public PDB: _EX_FAST_REF.RefCnt) — so the object is the value with those bits cleared.

import BinaryReading

/// One slot of an EX_FAST_REF array.
public struct FastRefSlot: Sendable, Equatable {
  /// Position in the array.
  public let index: Int
  /// The raw value stored in the slot.
  public let value: UInt64
  /// The referenced object (the value with the reference-count bits cleared); 0 for an empty slot.
  public let object: UInt64
}

extension VirtualAddressSpace {
  /// The reference-count bits of an EX_FAST_REF for this pointer size.
  public var fastRefMask: UInt64 { pointerSize == 8 ? 0xf : 0x7 }

  /// All `count` slots of the EX_FAST_REF array at `va`, read in one go.
  public func fastRefSlots(at va: UInt64, count: Int) throws(TranslationError) -> [FastRefSlot] {
    let size = pointerSize
    let bytes = try read(va, count: max(count, 0) &* size)  // count is a small family constant
    let words = ByteCursor(bytes, origin: va).words(width: size)
    return words.enumerated().map { index, value in
      FastRefSlot(index: index, value: value, object: value & ~fastRefMask)
    }
  }
}
