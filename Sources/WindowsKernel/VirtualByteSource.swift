// A module mapped in kernel (or process) virtual memory seen as a byte source, so the leaf PE
// parser can read it; a page that is not present makes that read throw, nothing more.

import AddressSpace
import BinaryReading

/// Bytes `[base, base + size)` of a virtual address space.
public struct VirtualByteSource: ByteSource {
  public let space: VirtualAddressSpace
  public let base: UInt64
  public let size: UInt64
  public let sourceName: String

  /// A window of `size` bytes at virtual address `base`, named `name` in messages.
  public init(space: VirtualAddressSpace, base: UInt64, size: UInt64, name: String) {
    self.space = space
    self.base = base
    self.size = size
    self.sourceName = name
  }

  public func read(at offset: UInt64, count: Int) throws -> [UInt8] {
    guard count >= 0 else {
      throw BinaryReadError.invalid(source: sourceName, offset: offset, message: "negative count")
    }
    try checkRange(offset: offset, count: UInt64(count))
    let (va, overflow) = base.addingReportingOverflow(offset)
    guard !overflow else { throw BinaryReadError.overflow(source: sourceName, offset: offset, what: "virtual address") }
    return try space.read(va, count: count)
  }
}
