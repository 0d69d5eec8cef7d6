// The small protocol through which the leaf parsers (PE, PDB, ISF) read bytes, whatever holds them.

/// Random-access bytes: a file, a slice of memory, or a module mapped in a memory image.
public protocol ByteSource: Sendable {
  /// A name for messages: a file path, or a description such as `ntoskrnl.exe @ 0xfffff803…`.
  var sourceName: String { get }
  /// Number of addressable bytes.
  var size: UInt64 { get }
  /// Exactly `count` bytes at `offset`, or an error (never fewer bytes).
  func read(at offset: UInt64, count: Int) throws -> [UInt8]
}

extension ByteSource {
  /// A bounds-checked cursor over `count` bytes at `offset`, whose error offsets are source offsets.
  public func cursor(at offset: UInt64, count: Int) throws -> ByteCursor {
    ByteCursor(try read(at: offset, count: count), origin: offset, source: sourceName)
  }

  /// Reads a little-endian integer at `offset`.
  public func readLE<T: FixedWidthInteger>(_ type: T.Type, at offset: UInt64) throws -> T {
    try cursor(at: offset, count: MemoryLayout<T>.size).getLE(type, at: 0)
  }

  /// Checks that `count` bytes at `offset` lie inside the source without reading them.
  public func checkRange(offset: UInt64, count: UInt64) throws(BinaryReadError) {
    let (end, overflow) = offset.addingReportingOverflow(count)
    guard !overflow, end <= size else {
      throw .outOfBounds(source: sourceName, offset: offset, count: count, size: size)
    }
  }
}

/// Bytes held in memory, e.g. a PDB stream assembled from its pages or a test literal.
public struct InMemoryByteSource: ByteSource {
  public let sourceName: String
  public let bytes: [UInt8]
  public var size: UInt64 { UInt64(bytes.count) }

  public init(_ bytes: [UInt8], name: String = "<memory>") {
    self.bytes = bytes
    self.sourceName = name
  }

  public func read(at offset: UInt64, count: Int) throws -> [UInt8] {
    guard count >= 0 else {
      throw BinaryReadError.invalid(source: sourceName, offset: offset, message: "negative count")
    }
    try checkRange(offset: offset, count: UInt64(count))
    // In range: checked just above, and bytes.count fits in Int.
    let start = Int(offset)
    return Array(bytes[start..<(start + count)])
  }
}

/// A window `[base, base + size)` of another source, with offsets relative to `base`.
public struct SliceByteSource<Base: ByteSource>: ByteSource {
  public let base: Base
  public let start: UInt64
  public let size: UInt64
  public var sourceName: String { base.sourceName }

  public init(_ base: Base, start: UInt64, size: UInt64) throws {
    try base.checkRange(offset: start, count: size)
    self.base = base
    self.start = start
    self.size = size
  }

  public func read(at offset: UInt64, count: Int) throws -> [UInt8] {
    guard count >= 0 else {
      throw BinaryReadError.invalid(source: sourceName, offset: offset, message: "negative count")
    }
    try checkRange(offset: offset, count: UInt64(count))
    return try base.read(at: start + offset, count: count)  // cannot overflow: start + size was checked at init
  }
}
