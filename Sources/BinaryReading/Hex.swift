// Hexadecimal formatting and parsing of addresses as shown to users and written in JSON.

/// Formats and parses `0x…` addresses.
public enum Hex {
  /// `0x1a2b`: lowercase, no padding (the JSON schema's address form).
  public static func format(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }

  /// `0x00001a2b`, zero-padded to `digits` hex digits.
  public static func format(_ value: UInt64, digits: Int) -> String {
    let s = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, digits - s.count)) + s
  }

  /// Parses `0x1A2B`, `1a2b`, `fffff803`1234abcd` (WinDbg's backtick) or a decimal with `0n`.
  public static func parse(_ text: String) -> UInt64? {
    var t = text.trimmingWhitespace().replacingBackticks()
    if t.hasPrefix("0n") { return UInt64(t.dropFirst(2)) }
    if t.hasPrefix("0x") || t.hasPrefix("0X") { t = String(t.dropFirst(2)) }
    guard !t.isEmpty, t.count <= 16 else { return nil }
    return UInt64(t, radix: 16)
  }

  /// Uppercase hex of bytes, e.g. a GUID's raw bytes.
  public static func upper(_ bytes: [UInt8]) -> String {
    bytes.map { b in
      let s = String(b, radix: 16, uppercase: true)
      return s.count == 1 ? "0" + s : s
    }.joined()
  }
}

extension String {
  fileprivate func trimmingWhitespace() -> String {
    String(drop(while: { $0.isWhitespace }).reversed().drop(while: { $0.isWhitespace }).reversed())
  }
  fileprivate func replacingBackticks() -> String { String(filter { $0 != "`" && $0 != "_" }) }
}
