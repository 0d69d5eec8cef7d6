// Little-endian reads of an image file's metadata (headers, run lists, notes). The bounds checks are
// MappedFile's (BinaryReading, the one place bytes are checked); this reader only turns a failed read
// into a `MemoryImageError.corrupt` that names the file, the offset and the structure being read.

import BinaryReading

/// Reads header fields of a mapped image file; `what` names the structure in error messages.
struct ImageFileReader: Sendable {
  let file: MappedFile
  var path: String { file.path }
  var size: UInt64 { file.size }

  init(_ file: MappedFile) { self.file = file }

  /// Fails unless `count` bytes at `offset` lie inside the file.
  func require(_ offset: UInt64, _ count: UInt64, _ what: String) throws(MemoryImageError) {
    do { try file.checkRange(offset: offset, count: count) } catch { throw named(error, what) }
  }

  func u8(_ offset: UInt64, _ what: String) throws(MemoryImageError) -> UInt8 {
    try load(UInt8.self, offset, what)
  }
  func u16(_ offset: UInt64, _ what: String) throws(MemoryImageError) -> UInt16 {
    try load(UInt16.self, offset, what)
  }
  func u32(_ offset: UInt64, _ what: String) throws(MemoryImageError) -> UInt32 {
    try load(UInt32.self, offset, what)
  }
  func u64(_ offset: UInt64, _ what: String) throws(MemoryImageError) -> UInt64 {
    try load(UInt64.self, offset, what)
  }

  /// `count` bytes at `offset`.
  func bytes(_ offset: UInt64, _ count: Int, _ what: String) throws(MemoryImageError) -> [UInt8] {
    do { return try file.readBytes(at: offset, count: count) } catch { throw named(error, what) }
  }

  private func load<T: FixedWidthInteger>(_ type: T.Type, _ offset: UInt64, _ what: String) throws(MemoryImageError)
    -> T
  {
    do { return try file.loadLE(type, at: offset) } catch { throw named(error, what) }
  }

  /// A failed read as a corrupt-structure error naming `what`.
  private func named(_ error: BinaryReadError, _ what: String) -> MemoryImageError {
    switch error {
    case .outOfBounds(_, let offset, let count, let size):
      return .corrupt(
        path: path, offset: offset,
        message: "\(what): \(count) byte(s) expected, but the file ends at \(Hex.format(size))")
    case .invalid(_, let offset, let message), .overflow(_, let offset, let message):
      return .corrupt(path: path, offset: offset, message: "\(what): \(message)")
    case .io:
      return .io(error)
    }
  }

  /// A corrupt-structure error at `offset`.
  func corrupt(_ offset: UInt64, _ message: String) -> MemoryImageError {
    .corrupt(path: path, offset: offset, message: message)
  }
}

/// Overflow-checked arithmetic on values read from files, failing with a corrupt-structure error.
extension ImageFileReader {
  func add(_ a: UInt64, _ b: UInt64, at offset: UInt64, _ what: String) throws(MemoryImageError) -> UInt64 {
    let (r, o) = a.addingReportingOverflow(b)
    guard !o else { throw corrupt(offset, "\(what) overflows (\(Hex.format(a)) + \(Hex.format(b)))") }
    return r
  }
  func multiply(_ a: UInt64, _ b: UInt64, at offset: UInt64, _ what: String) throws(MemoryImageError) -> UInt64 {
    let (r, o) = a.multipliedReportingOverflow(by: b)
    guard !o else { throw corrupt(offset, "\(what) overflows (\(Hex.format(a)) × \(Hex.format(b)))") }
    return r
  }
}
