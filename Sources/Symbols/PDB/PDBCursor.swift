// A bounds-checked little-endian reader over one PDB stream's bytes, throwing `PDBError` with the
// file and structure named. Integers are assembled byte by byte: no unsafe loads here.

/// Reads integers, byte runs and NUL-terminated names from a stream's bytes; every read is checked.
struct PDBCursor {
  let bytes: [UInt8]
  /// The file, for messages.
  let file: String
  /// What is being read (e.g. `TPI stream`), for messages.
  let structure: String
  /// Position; 0 ≤ offset ≤ end ≤ bytes.count always holds.
  private(set) var offset: Int
  /// One past the last byte this cursor may read.
  let end: Int

  init(_ bytes: [UInt8], file: String, structure: String, offset: Int = 0, end: Int? = nil) {
    self.bytes = bytes
    self.file = file
    self.structure = structure
    let e = min(max(end ?? bytes.count, 0), bytes.count)
    self.end = e
    self.offset = min(max(offset, 0), e)
  }

  var remaining: Int { end &- offset }  // offset ≤ end always holds

  private func truncated(_ count: Int) -> PDBError {
    .truncated(
      file: file, structure: structure, offset: UInt64(offset), needed: UInt64(max(count, 0)),
      available: UInt64(remaining))
  }

  private func need(_ count: Int) throws(PDBError) {
    guard count >= 0, count <= remaining else { throw truncated(count) }
  }

  mutating func u8() throws(PDBError) -> UInt8 {
    try need(1)
    let v = bytes[offset]
    offset &+= 1  // checked by need
    return v
  }

  mutating func u16() throws(PDBError) -> UInt16 {
    try need(2)
    let v = UInt16(bytes[offset]) | UInt16(bytes[offset &+ 1]) << 8  // in range: checked by need
    offset &+= 2
    return v
  }

  mutating func u32() throws(PDBError) -> UInt32 {
    try need(4)
    var v: UInt32 = 0
    for i in 0..<4 { v |= UInt32(bytes[offset &+ i]) << (8 * UInt32(i)) }  // in range: checked by need
    offset &+= 4
    return v
  }

  mutating func u64() throws(PDBError) -> UInt64 {
    let lo = try u32()
    let hi = try u32()
    return UInt64(hi) << 32 | UInt64(lo)
  }

  mutating func i32() throws(PDBError) -> Int32 { Int32(bitPattern: try u32()) }

  mutating func bytes(_ count: Int) throws(PDBError) -> [UInt8] {
    try need(count)
    let v = Array(bytes[offset..<(offset &+ count)])  // in range: checked by need
    offset &+= count
    return v
  }

  mutating func skip(_ count: Int) throws(PDBError) {
    try need(count)
    offset &+= count
  }

  mutating func seek(to position: Int) throws(PDBError) {
    guard position >= 0, position <= end else {
      throw PDBError.truncated(
        file: file, structure: structure, offset: UInt64(max(position, 0)), needed: 0, available: UInt64(end))
    }
    offset = position
  }

  /// A NUL-terminated name (UTF-8, invalid bytes repaired); the NUL must lie before `end`.
  mutating func cString() throws(PDBError) -> String {
    var stop = offset
    while stop < end, bytes[stop] != 0 { stop &+= 1 }
    guard stop < end else {
      throw PDBError.corrupt(
        file: file, structure: structure, offset: UInt64(offset), message: "name not NUL-terminated")
    }
    let s = String(decoding: bytes[offset..<stop], as: UTF8.self)
    offset = stop &+ 1  // stop < end ≤ count
    return s
  }

  /// Skips a NUL-terminated name without building a string.
  mutating func skipCString() throws(PDBError) {
    var stop = offset
    while stop < end, bytes[stop] != 0 { stop &+= 1 }
    guard stop < end else {
      throw PDBError.corrupt(
        file: file, structure: structure, offset: UInt64(offset), message: "name not NUL-terminated")
    }
    offset = stop &+ 1
  }

  func corrupt(_ message: String, at position: Int? = nil) -> PDBError {
    .corrupt(file: file, structure: structure, offset: UInt64(max(position ?? offset, 0)), message: message)
  }
}
