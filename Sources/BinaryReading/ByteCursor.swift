// A bounds-checked little-endian reader over bytes already in memory. All unaligned loads of the
// project's parsers go through here (`getLE` / `readLE`), so there is one place to audit.

/// Reads integers and byte runs from an array, checking every access; `get…(at:)` does not move,
/// `read…()` moves. Reads are confined to `[0, end)` (a record inside a larger stream). Error offsets
/// are reported relative to `origin` (the bytes' offset in their source). This is the one byte
/// cursor of the project: the PDB, PE and image-file readers wrap it only to name their errors.
public struct ByteCursor: Sendable {
  public let bytes: [UInt8]
  /// Offset of `bytes[0]` in the source, for messages.
  public let origin: UInt64
  /// Name of the source, for messages.
  public let source: String
  /// One past the last byte this cursor may read; 0 ≤ end ≤ bytes.count.
  public let end: Int
  /// Current position, 0 ≤ offset ≤ end.
  @inlinable public var offset: Int { position }
  /// Storage of `offset`, visible to the inlinable reads (their callers in other modules specialise
  /// them: a generic read through a witness table costs several times a PDB load).
  @usableFromInline var position: Int

  /// A cursor at `offset` (clamped into the window) over `bytes[0..<end]` (end clamped to the bytes).
  /// Inlinable like the reads: the PDB reader makes one per record.
  @inlinable
  public init(_ bytes: [UInt8], origin: UInt64 = 0, source: String = "<memory>", offset: Int = 0, end: Int? = nil) {
    self.bytes = bytes
    self.origin = origin
    self.source = source
    let limit = min(max(end ?? bytes.count, 0), bytes.count)
    self.end = limit
    self.position = min(max(offset, 0), limit)
  }

  /// Bytes left after the current position.
  @inlinable public var remaining: Int { end &- offset }  // offset ≤ end always holds

  /// The single bounds check behind every read: `count` bytes at `at` lie inside the window.
  @inlinable func check(_ at: Int, _ count: Int) throws(BinaryReadError) {
    guard at >= 0, count >= 0, at <= end, count <= end &- at else {
      throw .outOfBounds(
        source: source, offset: origin &+ UInt64(truncatingIfNeeded: max(at, 0)), count: UInt64(max(count, 0)),
        size: origin &+ UInt64(end))
    }
  }

  /// A little-endian integer at `at`, without moving.
  @inlinable
  public func getLE<T: FixedWidthInteger>(_ type: T.Type, at: Int) throws(BinaryReadError) -> T {
    try check(at, MemoryLayout<T>.size)
    return bytes.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: at, as: T.self)) }
  }

  /// A big-endian integer at `at`, without moving.
  @inlinable
  public func getBE<T: FixedWidthInteger>(_ type: T.Type, at: Int) throws(BinaryReadError) -> T {
    try check(at, MemoryLayout<T>.size)
    return bytes.withUnsafeBytes { T(bigEndian: $0.loadUnaligned(fromByteOffset: at, as: T.self)) }
  }

  /// `count` bytes at `at`, without moving.
  @inlinable
  public func getBytes(at: Int, count: Int) throws(BinaryReadError) -> [UInt8] {
    try check(at, count)
    return Array(bytes[at..<(at &+ count)])  // in range: checked above
  }

  /// Reads a little-endian integer and moves past it.
  @inlinable
  public mutating func readLE<T: FixedWidthInteger>(_ type: T.Type) throws(BinaryReadError) -> T {
    let value = try getLE(type, at: offset)
    position &+= MemoryLayout<T>.size  // checked by getLE
    return value
  }

  /// Reads a big-endian integer and moves past it.
  @inlinable
  public mutating func readBE<T: FixedWidthInteger>(_ type: T.Type) throws(BinaryReadError) -> T {
    let value = try getBE(type, at: offset)
    position &+= MemoryLayout<T>.size  // checked by getBE
    return value
  }

  /// Reads `count` bytes and moves past them.
  @inlinable
  public mutating func readBytes(_ count: Int) throws(BinaryReadError) -> [UInt8] {
    let value = try getBytes(at: offset, count: count)
    position &+= count  // checked by getBytes
    return value
  }

  /// Moves forward by `count` bytes.
  @inlinable
  public mutating func skip(_ count: Int) throws(BinaryReadError) {
    try check(offset, count)
    position &+= count
  }

  /// Moves to an absolute position inside the bytes.
  @inlinable
  public mutating func seek(to position: Int) throws(BinaryReadError) {
    try check(position, 0)
    self.position = position
  }

  /// Moves to the next multiple of `alignment` (a power of two), staying inside the bytes.
  public mutating func align(to alignment: Int) throws(BinaryReadError) {
    guard alignment > 0 else { return }
    let rem = offset % alignment
    if rem != 0 { try skip(alignment &- rem) }
  }

  /// Reads a NUL-terminated byte string (the NUL is consumed, not returned); at most `limit` bytes.
  public mutating func readCString(limit: Int = 4096) throws(BinaryReadError) -> [UInt8] {
    let stop = try terminator(limit: limit)
    let value = Array(bytes[offset..<stop])  // offset ≤ stop < end
    position = stop &+ 1
    return value
  }

  /// Reads a NUL-terminated string of at most `limit` bytes as UTF-8 (invalid bytes repaired), decoded
  /// from the cursor's bytes in place (no intermediate array: PDB name tables read tens of thousands).
  @inlinable
  public mutating func readUTF8CString(limit: Int = 4096) throws(BinaryReadError) -> String {
    let stop = try terminator(limit: limit)
    let value = String(decoding: bytes[offset..<stop], as: UTF8.self)  // offset ≤ stop < end
    position = stop &+ 1
    return value
  }

  /// The index of the NUL ending the string at the position, at most `limit` bytes on; the error
  /// when there is none inside the window.
  @inlinable func terminator(limit: Int) throws(BinaryReadError) -> Int {
    var stop = offset
    let last = offset &+ min(max(limit, 0), remaining)  // ≤ end
    while stop < last, bytes[stop] != 0 { stop &+= 1 }
    guard stop < end, bytes[stop] == 0 else {
      throw .invalid(source: source, offset: origin &+ UInt64(offset), message: "unterminated string (limit \(limit))")
    }
    return stop
  }

  /// Moves past a NUL-terminated byte string without copying it.
  @inlinable
  public mutating func skipCString() throws(BinaryReadError) {
    var stop = offset
    while stop < end, bytes[stop] != 0 { stop &+= 1 }
    guard stop < end else {
      throw .invalid(source: source, offset: origin &+ UInt64(offset), message: "unterminated string")
    }
    position = stop &+ 1
  }
}

extension ByteCursor {
  /// Every aligned little-endian word of `width` bytes (4 or 8, anything else reads 8) of the window from the
  /// start: one bounds check for the whole scan instead of one per word; a trailing partial word
  /// is left out.
  public func words(width: Int) -> [UInt64] {
    let size = width == 4 ? 4 : 8
    let count = end / size  // the window, ≤ bytes.count
    var out = [UInt64](repeating: 0, count: count)
    bytes.withUnsafeBytes { raw in
      for i in 0..<count {
        // i * size + size ≤ bytes.count by the choice of count.
        out[i] =
          size == 8
          ? UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i &* 8, as: UInt64.self))
          : UInt64(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: i &* 4, as: UInt32.self)))
      }
    }
    return out
  }
}
