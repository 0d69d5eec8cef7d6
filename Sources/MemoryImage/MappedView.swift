// The hot path of physical reads: direct little-endian loads from a file's mapping, without the
// generic, non-inlinable call into BinaryReading for every 8-byte page-table entry. All unsafe
// loads of the MemoryImage target live in this file.

import BinaryReading

/// Zero-copy loads from a mapped file. The mapping is immutable and lives as long as `file`,
/// which this view retains, so the base pointer stays valid for the view's whole life.
struct MappedView: @unchecked Sendable {
  // @unchecked: the pointer refers to a read-only mapping owned by `file` (retained here).
  let file: MappedFile
  let size: UInt64
  private let base: UnsafeRawPointer?

  init(_ file: MappedFile) {
    self.file = file
    self.size = file.size
    if let count = Int(exactly: file.size), count > 0 {
      self.base = (try? file.withBytes(at: 0, count: count) { $0.baseAddress }) ?? nil
    } else {
      self.base = nil
    }
  }

  /// The little-endian UInt64 at `offset`, or nil when it does not lie inside the file.
  @inline(__always)
  func loadUInt64(at offset: UInt64) -> UInt64? {
    guard let base, offset <= size, size &- offset >= 8 else { return nil }  // offset ≤ size: no underflow
    return UInt64(littleEndian: base.loadUnaligned(fromByteOffset: Int(offset), as: UInt64.self))
  }

  /// The little-endian UInt32 at `offset`, or nil when it does not lie inside the file.
  @inline(__always)
  func loadUInt32(at offset: UInt64) -> UInt32? {
    guard let base, offset <= size, size &- offset >= 4 else { return nil }  // offset ≤ size: no underflow
    return UInt32(littleEndian: base.loadUnaligned(fromByteOffset: Int(offset), as: UInt32.self))
  }

  /// Copies `count` bytes at `offset` to `destination`; false when they do not lie inside the file.
  func copyBytes(at offset: UInt64, count: Int, to destination: UnsafeMutableRawPointer) -> Bool {
    guard let base, count >= 0, offset <= size, size &- offset >= UInt64(count) else { return false }
    destination.copyMemory(from: base + Int(offset), byteCount: count)
    return true
  }
}
