// Field reads over the bytes of one structure, throwing PEError: the parsers read a structure's
// bytes once (from the source) and then pick fields here. The unaligned loads themselves are
// ByteCursor's (BinaryReading), so this target has no unsafe code.

import BinaryReading

/// The bytes of one on-disk structure and where they came from, for messages.
struct PEBytes {
  let cursor: ByteCursor
  let structure: String

  init(_ bytes: [UInt8], origin: UInt64, source: String, structure: String) {
    self.cursor = ByteCursor(bytes, origin: origin, source: source)
    self.structure = structure
  }

  var bytes: [UInt8] { cursor.bytes }
  var count: Int { cursor.bytes.count }
  var origin: UInt64 { cursor.origin }
  var source: String { cursor.source }

  private func mapped(_ error: BinaryReadError) -> PEError {
    switch error {
    case .outOfBounds(let source, let offset, let count, let size):
      return .truncated(source: source, offset: offset, count: count, size: size, structure: structure)
    case .overflow(let source, let offset, let what):
      return .corrupt(source: source, offset: offset, structure: structure, detail: "\(what) overflows")
    case .io(let path, let message):
      return .unavailable(source: path, offset: origin, count: 0, structure: structure, reason: message)
    case .invalid(let source, let offset, let message):
      return .corrupt(source: source, offset: offset, structure: structure, detail: message)
    }
  }

  func u8(_ at: Int) throws(PEError) -> UInt8 {
    do { return try cursor.getLE(UInt8.self, at: at) } catch { throw mapped(error) }
  }

  func u16(_ at: Int) throws(PEError) -> UInt16 {
    do { return try cursor.getLE(UInt16.self, at: at) } catch { throw mapped(error) }
  }

  func u32(_ at: Int) throws(PEError) -> UInt32 {
    do { return try cursor.getLE(UInt32.self, at: at) } catch { throw mapped(error) }
  }

  func u64(_ at: Int) throws(PEError) -> UInt64 {
    do { return try cursor.getLE(UInt64.self, at: at) } catch { throw mapped(error) }
  }

  func slice(_ at: Int, _ count: Int) throws(PEError) -> [UInt8] {
    do { return try cursor.getBytes(at: at, count: count) } catch { throw mapped(error) }
  }

  /// The NUL-terminated byte string at `at` (at most `limit` bytes before the NUL), or nil if no NUL
  /// follows within the limit and the bytes held.
  func cString(_ at: Int, limit: Int) -> [UInt8]? {
    guard at >= 0, at < count else { return nil }
    var c = ByteCursor(cursor.bytes, origin: origin, source: source, offset: at)
    return try? c.readCString(limit: limit)
  }

  /// A corrupt-structure error at `at` (an offset inside these bytes).
  func corrupt(_ at: Int, _ detail: String) -> PEError {
    // origin + at is a position inside the source, which is smaller than 2^64: no wrap.
    .corrupt(source: source, offset: origin &+ UInt64(max(at, 0)), structure: structure, detail: detail)
  }
}

/// Decodes bytes from the image as text (invalid UTF-8 is replaced, never trapped on).
func peText(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

/// `value` rounded up to `alignment` (a power of two), or nil on overflow or a bad alignment.
func peAlignUp(_ value: UInt64, _ alignment: UInt64) -> UInt64? {
  guard alignment > 0, alignment & (alignment &- 1) == 0 else { return nil }  // &-: alignment > 0 first
  let (sum, overflow) = value.addingReportingOverflow(alignment &- 1)  // alignment > 0
  guard !overflow else { return nil }
  return sum & ~(alignment &- 1)
}
