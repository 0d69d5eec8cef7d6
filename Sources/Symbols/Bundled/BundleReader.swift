// Bounds-checked little-endian reads from the bundled-profile file, with errors naming the offset.

import BinaryReading

/// Reads integers and bytes from a mapped bundle file.
struct BundleReader {
  let file: MappedFile
  let path: String

  func corrupt(_ offset: Int, _ message: String) -> SymbolsError {
    .corruptBundle(file: path, offset: offset, message: message)
  }

  private func load<T: FixedWidthInteger>(_ t: T.Type, _ at: Int) throws(SymbolsError) -> T {
    guard at >= 0 else { throw corrupt(at, "negative offset") }
    do { return try file.loadLE(t, at: UInt64(at)) } catch { throw corrupt(at, error.description) }
  }

  func u8(at: Int) throws(SymbolsError) -> UInt8 { try load(UInt8.self, at) }
  func u16(at: Int) throws(SymbolsError) -> UInt16 { try load(UInt16.self, at) }
  func u32(at: Int) throws(SymbolsError) -> UInt32 { try load(UInt32.self, at) }
  /// A u32 as Int (always fits on 64-bit hosts).
  func int(at: Int) throws(SymbolsError) -> Int { Int(try load(UInt32.self, at)) }

  func bytes(at: Int, count: Int) throws(SymbolsError) -> [UInt8] {
    guard at >= 0 else { throw corrupt(at, "negative offset") }
    do { return try file.readBytes(at: UInt64(at), count: count) } catch { throw corrupt(at, error.description) }
  }

  /// `base + index * stride`, checked for overflow and against the file size.
  func checkedOffset(_ base: Int, plus index: Int, times stride: Int) throws(SymbolsError) -> Int {
    let (m, o1) = index.multipliedReportingOverflow(by: stride)
    let (s, o2) = base.addingReportingOverflow(m)
    guard !o1, !o2, s >= 0, s <= Int(clamping: file.size) else {
      throw corrupt(base, "table of \(index) × \(stride) bytes runs past the end of the file")
    }
    return s
  }
}
