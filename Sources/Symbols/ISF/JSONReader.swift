// A pull-style JSON reader over bytes in memory (RFC 8259): the ISF loader asks for the next key
// or value instead of building a tree, so tens of megabytes parse without intermediate objects.
// Every byte access is bounds-checked; skipping an unknown value is iterative with a depth cap;
// errors carry the byte offset. All unsafe loads of this reader live in this file.

/// The position of an object key in the input, kept as a byte range until the caller needs a String.
struct JSONKey {
  var start: Int
  var end: Int
  var hasEscapes: Bool
}

/// Reads JSON tokens from `bytes` (which must outlive the reader).
struct JSONReader {
  let bytes: UnsafeRawBufferPointer
  let file: String
  private(set) var position = 0
  /// The deepest nesting `skipValue` accepts.
  static let maximumDepth = 512

  init(bytes: UnsafeRawBufferPointer, file: String) {
    self.bytes = bytes
    self.file = file
  }

  func error(_ message: String, at offset: Int? = nil) -> SymbolsError {
    .malformedJSON(file: file, offset: offset ?? position, message: message)
  }

  private func byte(at i: Int) -> UInt8? { i >= 0 && i < bytes.count ? bytes[i] : nil }

  private static func describe(_ b: UInt8?) -> String {
    guard let b else { return "end of input" }
    if b >= 0x21 && b < 0x7F { return "`\(Character(Unicode.Scalar(b)))`" }
    return "byte 0x\(String(b, radix: 16))"
  }

  mutating func skipWhitespace() {
    while position < bytes.count {
      switch bytes[position] {
      case 0x20, 0x09, 0x0A, 0x0D: position &+= 1  // position < count, so +1 ≤ count
      default: return
      }
    }
  }

  /// The next non-blank byte, not consumed.
  mutating func peek() -> UInt8? {
    skipWhitespace()
    return byte(at: position)
  }

  /// Consumes `c` (after blanks) or throws naming what was found instead.
  mutating func expect(_ c: UInt8, _ what: @autoclosure () -> String) throws(SymbolsError) {
    let b = peek()
    guard b == c else { throw error("expected \(what()), found \(Self.describe(b))") }
    position &+= 1  // a byte was present
  }

  /// Consumes `{`.
  mutating func beginObject(_ what: @autoclosure () -> String) throws(SymbolsError) {
    try expect(UInt8(ascii: "{"), "an object for " + what())
  }

  /// The next key of the current object, or nil after consuming its `}`. `first` tracks the comma.
  mutating func nextKey(first: inout Bool) throws(SymbolsError) -> JSONKey? {
    let b = peek()
    if b == UInt8(ascii: "}") {
      position &+= 1
      return nil
    }
    if !first {
      guard b == UInt8(ascii: ",") else { throw error("expected `,` or `}` in an object, found \(Self.describe(b))") }
      position &+= 1
    }
    first = false
    guard peek() == UInt8(ascii: "\"") else { throw error("expected a string key, found \(Self.describe(peek()))") }
    let key = try scanString()
    try expect(UInt8(ascii: ":"), "`:` after a key")
    return key
  }

  /// Consumes `[`.
  mutating func beginArray(_ what: @autoclosure () -> String) throws(SymbolsError) {
    try expect(UInt8(ascii: "["), "an array for \(what())")
  }

  /// True if another element follows in the current array; false after consuming its `]`.
  mutating func nextElement(first: inout Bool) throws(SymbolsError) -> Bool {
    let b = peek()
    if b == UInt8(ascii: "]") {
      position &+= 1
      return false
    }
    if !first {
      guard b == UInt8(ascii: ",") else { throw error("expected `,` or `]` in an array, found \(Self.describe(b))") }
      position &+= 1
    }
    first = false
    return true
  }

  /// Scans a string token starting at `"`; returns the range of its raw content.
  private mutating func scanString() throws(SymbolsError) -> JSONKey {
    let open = position
    position &+= 1  // the opening quote is present (checked by the caller)
    let start = position
    var escapes = false
    while position < bytes.count {
      let b = bytes[position]
      if b == UInt8(ascii: "\"") {
        let key = JSONKey(start: start, end: position, hasEscapes: escapes)
        position &+= 1
        return key
      }
      if b == UInt8(ascii: "\\") {
        escapes = true
        position &+= 2  // skip the escaped byte; bounds re-checked by the loop condition
        continue
      }
      guard b >= 0x20 else { throw error("control character 0x\(String(b, radix: 16)) inside a string") }
      position &+= 1
    }
    throw error("unterminated string", at: open)
  }

  /// True if the key's raw bytes equal `literal` (ASCII, no escapes).
  func key(_ key: JSONKey, is literal: StaticString) -> Bool {
    guard !key.hasEscapes, key.end &- key.start == literal.utf8CodeUnitCount else { return false }
    let p = literal.utf8Start
    var i = 0
    while i < literal.utf8CodeUnitCount {
      if bytes[key.start &+ i] != p[i] { return false }  // i < length of both
      i &+= 1
    }
    return true
  }

  /// The decoded text of a key or string token.
  func string(_ key: JSONKey) throws(SymbolsError) -> String {
    let raw = UnsafeRawBufferPointer(rebasing: bytes[key.start..<key.end])
    if !key.hasEscapes { return String(decoding: raw, as: UTF8.self) }
    var out: [UInt8] = []
    out.reserveCapacity(raw.count)
    var i = 0
    while i < raw.count {
      let b = raw[i]
      guard b == UInt8(ascii: "\\") else {
        out.append(b)
        i &+= 1
        continue
      }
      guard i &+ 1 < raw.count else { throw error("escape at end of string", at: key.start &+ i) }
      let e = raw[i &+ 1]
      i &+= 2
      switch e {
      case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
      case UInt8(ascii: "b"): out.append(0x08)
      case UInt8(ascii: "f"): out.append(0x0C)
      case UInt8(ascii: "n"): out.append(0x0A)
      case UInt8(ascii: "r"): out.append(0x0D)
      case UInt8(ascii: "t"): out.append(0x09)
      case UInt8(ascii: "u"):
        var code = try hex4(raw, at: i, base: key.start)
        i &+= 4
        if code >= 0xD800 && code < 0xDC00, i &+ 6 <= raw.count, raw[i] == UInt8(ascii: "\\"),
          raw[i &+ 1] == UInt8(ascii: "u")
        {
          let low = try hex4(raw, at: i &+ 2, base: key.start)
          if low >= 0xDC00 && low < 0xE000 {
            code = 0x10000 &+ ((code &- 0xD800) << 10) &+ (low &- 0xDC00)
            i &+= 6
          }
        }
        let scalar = Unicode.Scalar(code) ?? "\u{FFFD}"
        out.append(contentsOf: Array(String(Character(scalar)).utf8))
      default:
        throw error("invalid escape `\\\(Character(Unicode.Scalar(e)))`", at: key.start &+ i &- 2)
      }
    }
    return String(decoding: out, as: UTF8.self)
  }

  private func hex4(_ raw: UnsafeRawBufferPointer, at i: Int, base: Int) throws(SymbolsError) -> UInt32 {
    guard i >= 0, i &+ 4 <= raw.count else { throw error("truncated \\u escape", at: base &+ i) }
    var v: UInt32 = 0
    for k in 0..<4 {
      let c = raw[i &+ k]
      let d: UInt32
      switch c {
      case 0x30...0x39: d = UInt32(c &- 0x30)
      case 0x41...0x46: d = UInt32(c &- 0x37)
      case 0x61...0x66: d = UInt32(c &- 0x57)
      default: throw error("invalid hex digit in \\u escape", at: base &+ i &+ k)
      }
      v = v << 4 | d
    }
    return v
  }

  /// Reads a string value.
  mutating func readString(_ what: @autoclosure () -> String) throws(SymbolsError) -> String {
    guard peek() == UInt8(ascii: "\"") else {
      throw error("expected a string for \(what()), found \(Self.describe(peek()))")
    }
    return try string(try scanString())
  }

  /// Reads a string value as a key-like range (no allocation).
  mutating func readStringToken(_ what: @autoclosure () -> String) throws(SymbolsError) -> JSONKey {
    guard peek() == UInt8(ascii: "\"") else {
      throw error("expected a string for \(what()), found \(Self.describe(peek()))")
    }
    return try scanString()
  }

  /// Reads an integer value (no fraction or exponent) that fits in Int64.
  mutating func readInt(_ what: @autoclosure () -> String) throws(SymbolsError) -> Int64 {
    skipWhitespace()
    let start = position
    var negative = false
    if byte(at: position) == UInt8(ascii: "-") {
      negative = true
      position &+= 1
    }
    var magnitude: UInt64 = 0
    var digits = 0
    while let b = byte(at: position), b >= 0x30, b <= 0x39 {
      let (m, o1) = magnitude.multipliedReportingOverflow(by: 10)
      let (s, o2) = m.addingReportingOverflow(UInt64(b &- 0x30))
      guard !o1, !o2 else { throw error("integer for \(what()) does not fit in 64 bits", at: start) }
      magnitude = s
      digits &+= 1
      position &+= 1
    }
    guard digits > 0 else {
      throw error("expected an integer for \(what()), found \(Self.describe(byte(at: start)))", at: start)
    }
    if let b = byte(at: position), b == UInt8(ascii: ".") || b == UInt8(ascii: "e") || b == UInt8(ascii: "E") {
      throw error("expected an integer for \(what()), found a fractional number", at: start)
    }
    if negative {
      guard magnitude <= UInt64(Int64.max) &+ 1 else { throw error("integer for \(what()) is out of range", at: start) }
      return magnitude == UInt64(Int64.max) &+ 1 ? Int64.min : -Int64(magnitude)
    }
    guard let v = Int64(exactly: magnitude) else { throw error("integer for \(what()) is out of range", at: start) }
    return v
  }

  /// Reads a non-negative integer that fits in Int.
  mutating func readCount(_ what: @autoclosure () -> String) throws(SymbolsError) -> Int {
    let start = peekOffset()
    let v = try readInt(what())
    guard v >= 0, let n = Int(exactly: v) else {
      throw error("\(what()) must be a non-negative integer, is \(v)", at: start)
    }
    return n
  }

  /// Reads `true` or `false`.
  mutating func readBool(_ what: @autoclosure () -> String) throws(SymbolsError) -> Bool {
    skipWhitespace()
    if matchLiteral("true") { return true }
    if matchLiteral("false") { return false }
    throw error("expected true or false for \(what()), found \(Self.describe(byte(at: position)))")
  }

  /// The offset of the next non-blank byte.
  mutating func peekOffset() -> Int {
    skipWhitespace()
    return position
  }

  private mutating func matchLiteral(_ literal: StaticString) -> Bool {
    let n = literal.utf8CodeUnitCount
    guard n <= bytes.count &- position else { return false }
    let p = literal.utf8Start
    for i in 0..<n where bytes[position &+ i] != p[i] { return false }
    position &+= n
    return true
  }

  /// Skips one complete value of any kind, iteratively, refusing nesting deeper than `maximumDepth`.
  mutating func skipValue() throws(SymbolsError) {
    // One entry per open container: true for an object (members need a key), false for an array.
    var stack: [Bool] = []
    repeat {
      guard let b = peek() else { throw error("unexpected end of input inside a value") }
      switch b {
      case UInt8(ascii: "{"), UInt8(ascii: "["):
        guard stack.count < Self.maximumDepth else { throw error("nesting deeper than \(Self.maximumDepth) levels") }
        let isObject = b == UInt8(ascii: "{")
        position &+= 1
        if peek() == (isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
          position &+= 1
        } else {
          stack.append(isObject)
          if isObject { try scanKeyForSkip() }
          continue
        }
      case UInt8(ascii: "\""): _ = try scanString()
      case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
        guard matchLiteral("true") || matchLiteral("false") || matchLiteral("null") else {
          throw error("invalid literal starting with \(Self.describe(b))")
        }
      case UInt8(ascii: "-"), 0x30...0x39: try scanNumber()
      default: throw error("expected a value, found \(Self.describe(b))")
      }
      // After a value: close containers or move on to the next member or element.
      while let isObject = stack.last {
        let c = peek()
        if c == UInt8(ascii: ",") {
          position &+= 1
          if isObject { try scanKeyForSkip() }
          break
        }
        guard c == (isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) else {
          throw error("expected `,` or `\(isObject ? "}" : "]")`, found \(Self.describe(c))")
        }
        position &+= 1
        stack.removeLast()
      }
    } while !stack.isEmpty
  }

  /// After `{` or `,` inside an object in skipValue: a key and its colon.
  private mutating func scanKeyForSkip() throws(SymbolsError) {
    guard peek() == UInt8(ascii: "\"") else { throw error("expected a string key, found \(Self.describe(peek()))") }
    _ = try scanString()
    try expect(UInt8(ascii: ":"), "`:` after a key")
  }

  private mutating func scanNumber() throws(SymbolsError) {
    let start = position
    if byte(at: position) == UInt8(ascii: "-") { position &+= 1 }
    var digits = 0
    while let b = byte(at: position) {
      switch b {
      case 0x30...0x39: digits &+= 1
      case UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "+"), UInt8(ascii: "-"): break
      default:
        guard digits > 0 else { throw error("invalid number", at: start) }
        return
      }
      position &+= 1
    }
    guard digits > 0 else { throw error("invalid number", at: start) }
  }

  /// Throws unless only blanks remain.
  mutating func expectEnd() throws(SymbolsError) {
    if let b = peek() { throw error("unexpected \(Self.describe(b)) after the end of the document") }
  }
}
