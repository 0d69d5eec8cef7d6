// UNICODE_STRING reads. Layout (wdm.h / ntdef.h, and the public kernel symbols' _UNICODE_STRING):
// USHORT Length (bytes, no terminator), USHORT MaximumLength, then PWSTR Buffer aligned to the pointer
// size (offset 8 on x64, 4 on x86). Also NUL-terminated byte strings and GUIDs.

import BinaryReading

extension VirtualAddressSpace {
  /// The UNICODE_STRING at `va`, decoded as UTF-16LE (invalid units replaced); at most `maxBytes` bytes
  /// of the buffer are read, whatever Length says.
  public func readUnicodeString(at va: UInt64, maxBytes: Int = 0x2000) throws(TranslationError) -> String {
    let length = Int(try readUInt16(va))
    let (bufferField, overflow) = va.addingReportingOverflow(UInt64(pointerSize))
    guard !overflow else { throw .nonCanonical(va: bufferField) }
    let buffer = try readPointer(bufferField)
    let count = min(length, max(maxBytes, 0)) & ~1  // whole UTF-16 units only
    guard count > 0 else { return "" }
    return Self.decodeUTF16LE(try read(buffer, count: count))
  }

  /// Lossy UTF-16LE decoding of `bytes` (an odd trailing byte is ignored).
  public static func decodeUTF16LE(_ bytes: [UInt8]) -> String {
    var units: [UInt16] = []
    units.reserveCapacity(bytes.count / 2)
    var i = 0
    while i &+ 1 < bytes.count {  // i + 1 < count ≤ Int.max
      units.append(UInt16(bytes[i]) | UInt16(bytes[i &+ 1]) << 8)
      i &+= 2
    }
    return String(decoding: units, as: UTF16.self)
  }
}

extension VirtualAddressSpace {
  /// The NUL-terminated byte string at `va` (at most `limit` bytes, decoded as UTF-8 with repair),
  /// read a page at a time so a string ending just before an unmapped page still reads. Fails when
  /// its first page is unreadable; a string cut by an unreadable page is returned as far as read.
  public func readCString(at va: UInt64, limit: Int = 256) throws(TranslationError) -> String {
    var bytes: [UInt8] = []
    var at = va
    while bytes.count < limit {
      let chunk = min(limit &- bytes.count, Int(0x1000 &- (at & 0xfff)))  // 1...0x1000
      let part: [UInt8]
      do { part = try read(at, count: chunk) } catch {
        if bytes.isEmpty { throw error }
        break
      }
      if let nul = part.firstIndex(of: 0) {
        bytes += part[..<nul]
        break
      }
      bytes += part
      let (next, overflow) = at.addingReportingOverflow(UInt64(chunk))
      if overflow { break }
      at = next
    }
    return String(decoding: bytes, as: UTF8.self)
  }

  /// The GUID (16 bytes: Data1 u32, Data2 u16, Data3 u16 little-endian, Data4 8 bytes) at `va`, as
  /// `XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX`.
  public func readGUID(at va: UInt64) throws(TranslationError) -> String {
    let b = try read(va, count: 16)  // exactly 16 bytes, so the ranges below are in bounds
    let d1 = Hex.upper(Array(b[0..<4].reversed()))
    let d2 = Hex.upper(Array(b[4..<6].reversed()))
    let d3 = Hex.upper(Array(b[6..<8].reversed()))
    return "\(d1)-\(d2)-\(d3)-\(Hex.upper(Array(b[8..<10])))-\(Hex.upper(Array(b[10..<16])))"
  }
}
