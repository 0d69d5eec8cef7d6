// The reads of one PDB stream's bytes: BinaryReading's ByteCursor (the project's one bounds-checked
// cursor) with its errors named as PDBError, carrying the file and the structure being read.

import BinaryReading

/// Reads integers, byte runs and NUL-terminated names from a stream's bytes; every read is checked.
struct PDBCursor {
  private var cursor: ByteCursor
  /// The file, for messages (the cursor's source: one string per cursor, not two).
  var file: String { cursor.source }
  /// What is being read (e.g. `TPI stream`), for messages.
  let structure: String

  init(_ bytes: [UInt8], file: String, structure: String, offset: Int = 0, end: Int? = nil) {
    self.cursor = ByteCursor(bytes, source: file, offset: offset, end: end)
    self.structure = structure
  }

  /// The stream's bytes.
  var bytes: [UInt8] { cursor.bytes }
  /// Position; 0 ≤ offset ≤ end ≤ bytes.count always holds.
  var offset: Int { cursor.offset }
  /// One past the last byte this cursor may read.
  var end: Int { cursor.end }
  var remaining: Int { cursor.remaining }

  /// The cursor's error as a PDBError: a short read is `truncated` (what was needed, what is left),
  /// anything else `corrupt`.
  private func named(_ error: BinaryReadError, message: String? = nil) -> PDBError {
    switch error {
    case .outOfBounds(_, let offset, let count, _):
      let available = offset < UInt64(end) ? UInt64(end) &- offset : 0
      return .truncated(file: file, structure: structure, offset: offset, needed: count, available: available)
    case .overflow(_, let offset, let what):
      return .corrupt(file: file, structure: structure, offset: offset, message: "\(what) overflows")
    case .invalid(_, let offset, let text):
      return .corrupt(file: file, structure: structure, offset: offset, message: message ?? text)
    case .io(_, let text):
      return .corrupt(file: file, structure: structure, offset: UInt64(offset), message: text)
    }
  }

  mutating func u8() throws(PDBError) -> UInt8 {
    do { return try cursor.readLE(UInt8.self) } catch { throw named(error) }
  }

  mutating func u16() throws(PDBError) -> UInt16 {
    do { return try cursor.readLE(UInt16.self) } catch { throw named(error) }
  }

  mutating func u32() throws(PDBError) -> UInt32 {
    do { return try cursor.readLE(UInt32.self) } catch { throw named(error) }
  }

  mutating func u64() throws(PDBError) -> UInt64 {
    do { return try cursor.readLE(UInt64.self) } catch { throw named(error) }
  }

  mutating func i32() throws(PDBError) -> Int32 { Int32(bitPattern: try u32()) }

  mutating func bytes(_ count: Int) throws(PDBError) -> [UInt8] {
    do { return try cursor.readBytes(count) } catch { throw named(error) }
  }

  mutating func skip(_ count: Int) throws(PDBError) {
    do { try cursor.skip(count) } catch { throw named(error) }
  }

  mutating func seek(to position: Int) throws(PDBError) {
    do { try cursor.seek(to: position) } catch {
      throw PDBError.truncated(
        file: file, structure: structure, offset: UInt64(max(position, 0)), needed: 0, available: UInt64(end))
    }
  }

  /// A NUL-terminated name (UTF-8, invalid bytes repaired); the NUL must lie before `end`.
  mutating func cString() throws(PDBError) -> String {
    do { return try cursor.readUTF8CString(limit: cursor.remaining) } catch {
      throw named(error, message: "name not NUL-terminated")
    }
  }

  /// Skips a NUL-terminated name without building a string.
  mutating func skipCString() throws(PDBError) {
    do { try cursor.skipCString() } catch { throw named(error, message: "name not NUL-terminated") }
  }

  func corrupt(_ message: String, at position: Int? = nil) -> PDBError {
    .corrupt(file: file, structure: structure, offset: UInt64(max(position ?? offset, 0)), message: message)
  }
}
