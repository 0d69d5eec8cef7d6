// CodeView numeric leaves: the variable-length integers (sizes, offsets, enum values) inside type
// and symbol records. A u16 below 0x8000 is the value itself; otherwise it names the encoding.
// Layout: Microsoft cvinfo.h (LF_NUMERIC, LF_CHAR … LF_UQUADWORD, LF_REAL*, LF_COMPLEX*, LF_VARSTRING,
// LF_OCTWORD, LF_UOCTWORD, LF_DECIMAL, LF_DATE, LF_UTF8STRING, LF_REAL16); LLVM CodeView docs.

/// A decoded numeric leaf: an integer when it is one, or just skipped (reals, strings, 128-bit).
enum NumericLeaf {
  /// Reads a numeric leaf; returns its value when it is an integer that fits in Int64 (UInt64 values
  /// above Int64.max are returned bit-cast), nil for non-integer encodings (which are skipped).
  static func read(_ c: inout PDBCursor) throws(PDBError) -> Int64? {
    let at = c.offset
    let leaf = try c.u16()
    if leaf < 0x8000 { return Int64(leaf) }
    switch leaf {
    case 0x8000: return Int64(Int8(bitPattern: try c.u8()))  // LF_CHAR
    case 0x8001: return Int64(Int16(bitPattern: try c.u16()))  // LF_SHORT
    case 0x8002: return Int64(try c.u16())  // LF_USHORT
    case 0x8003: return Int64(try c.i32())  // LF_LONG
    case 0x8004: return Int64(try c.u32())  // LF_ULONG
    case 0x8009: return Int64(bitPattern: try c.u64())  // LF_QUADWORD
    case 0x800A: return Int64(bitPattern: try c.u64())  // LF_UQUADWORD
    case 0x8005: try c.skip(4)  // LF_REAL32
    case 0x8006: try c.skip(8)  // LF_REAL64
    case 0x8007: try c.skip(10)  // LF_REAL80
    case 0x8008: try c.skip(16)  // LF_REAL128
    case 0x800B: try c.skip(6)  // LF_REAL48
    case 0x800C: try c.skip(8)  // LF_COMPLEX32
    case 0x800D: try c.skip(16)  // LF_COMPLEX64
    case 0x800E: try c.skip(20)  // LF_COMPLEX80
    case 0x800F: try c.skip(32)  // LF_COMPLEX128
    case 0x8010: try c.skip(Int(try c.u16()))  // LF_VARSTRING: u16 length + bytes
    case 0x8017, 0x8018, 0x8019: try c.skip(16)  // LF_OCTWORD, LF_UOCTWORD, LF_DECIMAL
    case 0x801A: try c.skip(8)  // LF_DATE
    case 0x801B: try c.skipCString()  // LF_UTF8STRING
    case 0x801C: try c.skip(2)  // LF_REAL16
    default: throw c.corrupt("unknown numeric leaf 0x\(String(leaf, radix: 16))", at: at)
    }
    return nil
  }

  /// Reads a numeric leaf that must be a non-negative integer (a size or an offset).
  static func readSize(_ c: inout PDBCursor, what: String) throws(PDBError) -> Int {
    let at = c.offset
    guard let v = try read(&c), v >= 0, let i = Int(exactly: v) else {
      throw c.corrupt("\(what) is not a non-negative integer leaf", at: at)
    }
    return i
  }
}
