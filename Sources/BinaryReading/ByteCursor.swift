// A bounds-checked little-endian reader over bytes already in memory. All unaligned loads of the
// project's parsers go through here (`getLE` / `readLE`), so there is one place to audit.

/// Reads integers and byte runs from an array, checking every access; `get…(at:)` does not move,
/// `read…()` moves. Error offsets are reported relative to `origin` (the bytes' offset in their source).
public struct ByteCursor: Sendable {
  public let bytes: [UInt8]
  /// Offset of `bytes[0]` in the source, for messages.
  public let origin: UInt64
  /// Name of the source, for messages.
  public let source: String
  /// Current position, 0 ≤ offset ≤ bytes.count.
  public private(set) var offset: Int = 0

  public init(_ bytes: [UInt8], origin: UInt64 = 0, source: String = "<memory>") {
    self.bytes = bytes
    self.origin = origin
    self.source = source
  }

  /// Bytes left after the current position.
  public var remaining: Int { bytes.count &- offset }  // offset ≤ count always holds

  private func check(_ at: Int, _ count: Int) throws(BinaryReadError) {
    guard at >= 0, count >= 0, at <= bytes.count, count <= bytes.count &- at else {
      throw .outOfBounds(
        source: source, offset: origin &+ UInt64(truncatingIfNeeded: max(at, 0)), count: UInt64(max(count, 0)),
        size: origin &+ UInt64(bytes.count))
    }
  }

  /// A little-endian integer at `at`, without moving.
  public func getLE<T: FixedWidthInteger>(_ type: T.Type, at: Int) throws(BinaryReadError) -> T {
    try check(at, MemoryLayout<T>.size)
    return bytes.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: at, as: T.self)) }
  }

  /// A big-endian integer at `at`, without moving.
  public func getBE<T: FixedWidthInteger>(_ type: T.Type, at: Int) throws(BinaryReadError) -> T {
    try check(at, MemoryLayout<T>.size)
    return bytes.withUnsafeBytes { T(bigEndian: $0.loadUnaligned(fromByteOffset: at, as: T.self)) }
  }

  /// `count` bytes at `at`, without moving.
  public func getBytes(at: Int, count: Int) throws(BinaryReadError) -> [UInt8] {
    try check(at, count)
    return Array(bytes[at..<(at &+ count)])  // in range: checked above
  }

  /// Reads a little-endian integer and moves past it.
  public mutating func readLE<T: FixedWidthInteger>(_ type: T.Type) throws(BinaryReadError) -> T {
    let value = try getLE(type, at: offset)
    offset &+= MemoryLayout<T>.size  // checked by getLE
    return value
  }

  /// Reads a big-endian integer and moves past it.
  public mutating func readBE<T: FixedWidthInteger>(_ type: T.Type) throws(BinaryReadError) -> T {
    let value = try getBE(type, at: offset)
    offset &+= MemoryLayout<T>.size  // checked by getBE
    return value
  }

  /// Reads `count` bytes and moves past them.
  public mutating func readBytes(_ count: Int) throws(BinaryReadError) -> [UInt8] {
    let value = try getBytes(at: offset, count: count)
    offset &+= count  // checked by getBytes
    return value
  }

  /// Moves forward by `count` bytes.
  public mutating func skip(_ count: Int) throws(BinaryReadError) {
    try check(offset, count)
    offset &+= count
  }

  /// Moves to an absolute position inside the bytes.
  public mutating func seek(to position: Int) throws(BinaryReadError) {
    try check(position, 0)
    offset = position
  }

  /// Moves to the next multiple of `alignment` (a power of two), staying inside the bytes.
  public mutating func align(to alignment: Int) throws(BinaryReadError) {
    guard alignment > 0 else { return }
    let rem = offset % alignment
    if rem != 0 { try skip(alignment &- rem) }
  }

  /// Reads a NUL-terminated byte string (the NUL is consumed, not returned); at most `limit` bytes.
  public mutating func readCString(limit: Int = 4096) throws(BinaryReadError) -> [UInt8] {
    var end = offset
    let stop = min(bytes.count, offset &+ max(limit, 0))
    while end < stop, bytes[end] != 0 { end &+= 1 }
    guard end < bytes.count, bytes[end] == 0 else {
      throw .invalid(source: source, offset: origin &+ UInt64(offset), message: "unterminated string (limit \(limit))")
    }
    let value = Array(bytes[offset..<end])
    offset = end &+ 1
    return value
  }
}

extension ByteCursor {
  /// Every aligned little-endian word of `width` bytes (4 or 8, anything else reads 8) from the
  /// start: one bounds check for the whole scan instead of one per word; a trailing partial word
  /// is left out.
  public func words(width: Int) -> [UInt64] {
    let size = width == 4 ? 4 : 8
    let count = bytes.count / size
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
