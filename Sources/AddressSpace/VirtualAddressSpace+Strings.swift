// UNICODE_STRING reads. Layout (wdm.h / ntdef.h, and the public kernel symbols' _UNICODE_STRING):
// USHORT Length (bytes, no terminator), USHORT MaximumLength, then PWSTR Buffer aligned to the pointer
// size (offset 8 on x64, 4 on x86).

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
