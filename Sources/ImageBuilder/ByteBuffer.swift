// A growable little-endian byte buffer for writing headers and tables (the writer's counterpart of
// BinaryReading's ByteCursor). Only the builder's own values go in; sizes are its own.

/// Little-endian bytes being assembled: append at the end or overwrite at an offset (growing with zeros).
public struct ByteBuffer: Sendable, Hashable {
  /// The bytes written so far.
  public private(set) var bytes: [UInt8]

  public init(count: Int = 0) { bytes = [UInt8](repeating: 0, count: max(count, 0)) }
  public init(_ bytes: [UInt8]) { self.bytes = bytes }

  /// Number of bytes.
  public var count: Int { bytes.count }

  /// Appends an integer, little-endian.
  public mutating func append<T: FixedWidthInteger>(_ value: T) {
    withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
  }

  /// Appends raw bytes.
  public mutating func append(_ other: [UInt8]) { bytes.append(contentsOf: other) }

  /// Appends `count` zero bytes.
  public mutating func appendZeros(_ count: Int) {
    if count > 0 { bytes += [UInt8](repeating: 0, count: count) }
  }

  /// Appends zeros up to the next multiple of `alignment`.
  public mutating func pad(to alignment: Int) {
    guard alignment > 1 else { return }
    let rem = bytes.count % alignment
    if rem != 0 { appendZeros(alignment - rem) }
  }

  /// Appends UTF-16LE code units of `text`, then a NUL unit if `terminated`.
  public mutating func appendUTF16(_ text: String, terminated: Bool = true) {
    for unit in text.utf16 { append(unit) }
    if terminated { append(UInt16(0)) }
  }

  /// Appends the UTF-8 bytes of `text`, then a NUL byte if `terminated`.
  public mutating func appendASCII(_ text: String, terminated: Bool = true) {
    bytes.append(contentsOf: Array(text.utf8))
    if terminated { bytes.append(0) }
  }

  /// Overwrites (growing with zeros if needed) an integer at `offset`.
  public mutating func put<T: FixedWidthInteger>(_ value: T, at offset: Int) {
    var raw: [UInt8] = []
    withUnsafeBytes(of: value.littleEndian) { raw.append(contentsOf: $0) }
    put(raw, at: offset)
  }

  /// Overwrites (growing with zeros if needed) bytes at `offset`; negative offsets are ignored.
  public mutating func put(_ raw: [UInt8], at offset: Int) {
    guard offset >= 0 else { return }
    let end = offset + raw.count
    if end > bytes.count { appendZeros(end - bytes.count) }
    bytes.replaceSubrange(offset..<end, with: raw)
  }
}

/// Rounds `value` up to a multiple of `alignment` (a positive power of two or any positive number).
func alignUp(_ value: Int, _ alignment: Int) -> Int {
  guard alignment > 1 else { return value }
  let rem = value % alignment
  return rem == 0 ? value : value + (alignment - rem)
}

/// Rounds `value` up to a multiple of `alignment` (64-bit).
func alignUp(_ value: UInt64, _ alignment: UInt64) -> UInt64 {
  guard alignment > 1 else { return value }
  let rem = value % alignment
  return rem == 0 ? value : value + (alignment - rem)
}

/// Whether every byte of `bytes` is zero (word-at-a-time: this runs over every page written).
func isAllZero(_ bytes: ArraySlice<UInt8>) -> Bool {
  bytes.withUnsafeBytes { raw in
    var index = 0
    while index + 8 <= raw.count {
      if raw.loadUnaligned(fromByteOffset: index, as: UInt64.self) != 0 { return false }
      index += 8
    }
    while index < raw.count {
      if raw[index] != 0 { return false }
      index += 1
    }
    return true
  }
}
