// ByteCursor on byte literals: little/big-endian reads at documented positions, and every
// out-of-range access throwing with the source offset rather than trapping.

import BinaryReading
import Testing

@Suite struct ByteCursorTests {
  let bytes: [UInt8] = [0x4d, 0x5a, 0x90, 0x00, 0x03, 0x00, 0x00, 0x00, 0x41, 0x42, 0x00, 0xff]

  @Test func littleAndBigEndianReads() throws {
    var c = ByteCursor(bytes, origin: 0x1000, source: "t")
    #expect(try c.readLE(UInt16.self) == 0x5a4d)  // "MZ"
    #expect(try c.getBE(UInt16.self, at: 0) == 0x4d5a)
    #expect(try c.readLE(UInt16.self) == 0x0090)
    #expect(try c.readLE(UInt32.self) == 3)
    #expect(c.offset == 8 && c.remaining == 4)
    #expect(try c.readCString() == [0x41, 0x42])
    #expect(c.offset == 11)
  }

  @Test func readsPastTheEndThrowWithTheSourceOffset() {
    var c = ByteCursor(bytes, origin: 0x1000, source: "t")
    #expect(throws: BinaryReadError.outOfBounds(source: "t", offset: 0x100a, count: 4, size: 0x100c)) {
      try c.getLE(UInt32.self, at: 10)
    }
    #expect(throws: BinaryReadError.self) { try c.getBytes(at: -1, count: 1) }
    #expect(throws: BinaryReadError.self) { try c.getBytes(at: 0, count: Int.max) }
    #expect(throws: BinaryReadError.self) { try c.seek(to: 13) }
    #expect(throws: BinaryReadError.self) { try c.skip(-1) }
    #expect(c.offset == 0)  // a failed read does not move
  }

  @Test func unterminatedStringIsAnError() throws {
    var c = ByteCursor([0x41, 0x42, 0x43], source: "s")
    #expect(throws: BinaryReadError.self) { try c.readCString() }
    var limited = ByteCursor([0x41, 0x42, 0x43, 0x00], source: "s")
    #expect(throws: BinaryReadError.self) { try limited.readCString(limit: 2) }
  }

  @Test func utf8StringsDecodeInPlaceWithTheSameChecks() throws {
    // "é" (C3 A9), a lone continuation byte (repaired to U+FFFD), then the NUL.
    var c = ByteCursor([0x41, 0xc3, 0xa9, 0x80, 0x00, 0x42, 0x00], source: "u")
    #expect(try c.readUTF8CString() == "A\u{e9}\u{fffd}")
    #expect(c.offset == 5)
    #expect(try c.readUTF8CString(limit: 1) == "B")  // the NUL may stand right after `limit` bytes
    var limited = ByteCursor([0x41, 0x42, 0x43, 0x00], source: "u")
    #expect(throws: BinaryReadError.invalid(source: "u", offset: 0, message: "unterminated string (limit 2)")) {
      try limited.readUTF8CString(limit: 2)
    }
    #expect(limited.offset == 0)  // a failed read does not move
    var window = ByteCursor(bytes, offset: 8, end: 10)  // the NUL at 10 lies outside
    #expect(throws: BinaryReadError.self) { try window.readUTF8CString() }
  }

  @Test func aWindowConfinesEveryRead() throws {
    // A record at 4..<8 inside the bytes: reads beyond 8 fail although the bytes go on.
    var c = ByteCursor(bytes, origin: 0x1000, source: "t", offset: 4, end: 8)
    #expect(c.remaining == 4)
    #expect(try c.readLE(UInt32.self) == 3)
    #expect(throws: BinaryReadError.outOfBounds(source: "t", offset: 0x1008, count: 1, size: 0x1008)) {
      try c.readLE(UInt8.self)
    }
    #expect(throws: BinaryReadError.self) { try c.getLE(UInt16.self, at: 8) }
    // The NUL at 10 lies outside a window ending at 10: the name is unterminated there.
    var name = ByteCursor(bytes, offset: 8, end: 10)
    #expect(throws: BinaryReadError.self) { try name.readCString() }
    #expect(throws: BinaryReadError.self) { try name.skipCString() }
    var whole = ByteCursor(bytes, offset: 8)
    try whole.skipCString()
    #expect(whole.offset == 11)
    #expect(ByteCursor(bytes, offset: 99, end: -3).offset == 0)  // clamped, never out of range
    #expect(ByteCursor(bytes, end: 8).words(width: 4) == [0x0090_5a4d, 3])
  }

  @Test func alignMovesToTheNextMultiple() throws {
    var c = ByteCursor([UInt8](repeating: 0, count: 16))
    try c.skip(3)
    try c.align(to: 8)
    #expect(c.offset == 8)
    try c.align(to: 8)
    #expect(c.offset == 8)
  }
}

@Suite struct ByteSourceTests {
  @Test func inMemoryAndSliceSourcesCheckRanges() throws {
    let source = InMemoryByteSource(Array(0..<32), name: "m")
    #expect(try source.read(at: 30, count: 2) == [30, 31])
    #expect(throws: BinaryReadError.self) { try source.read(at: 31, count: 2) }
    #expect(throws: BinaryReadError.self) { try source.read(at: UInt64.max, count: 2) }
    #expect(try source.readLE(UInt32.self, at: 4) == 0x0706_0504)
    let slice = try SliceByteSource(source, start: 8, size: 8)
    #expect(try slice.read(at: 0, count: 2) == [8, 9])
    #expect(throws: BinaryReadError.self) { try slice.read(at: 7, count: 2) }
    #expect(throws: BinaryReadError.self) { try SliceByteSource(source, start: 30, size: 8) }
  }
}

@Suite struct HexTests {
  @Test func parsesTheFormsAnalystsType() {
    #expect(Hex.parse("0xfffff80360800000") == 0xffff_f803_6080_0000)
    #expect(Hex.parse("fffff803`60800000") == 0xffff_f803_6080_0000)  // WinDbg
    #expect(Hex.parse("0X1A2B") == 0x1a2b)
    #expect(Hex.parse("0n4096") == 4096)
    #expect(Hex.parse(" 0x10 ") == 0x10)
    #expect(Hex.parse("0x") == nil)
    #expect(Hex.parse("0x1ffffffffffffffff") == nil)  // 17 digits
    #expect(Hex.parse("zz") == nil)
  }

  @Test func formats() {
    #expect(Hex.format(0xfffff80360800000) == "0xfffff80360800000")
    #expect(Hex.format(0x1a, digits: 4) == "0x001a")
    #expect(Hex.upper([0x0a, 0xff]) == "0AFF")
  }
}
