// HTML escaping for text from the image (module names, paths, symbols and details are hostile input).
// The five characters follow the HTML Living Standard's "escaping a string" plus `'`, so the result is
// safe in element content and in single- or double-quoted attribute values alike.

extension HTMLReport {
  /// `text` with `& < > " '` replaced by character references and control characters (other than tab,
  /// line feed and carriage return) replaced by U+FFFD, safe in element content and quoted attributes.
  public static func escaped(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.utf8.count)
    for scalar in text.unicodeScalars {
      switch scalar {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&quot;"
      case "'": out += "&#39;"
      case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
      default:
        let v = scalar.value
        if v < 0x20 || v == 0x7f || (0x80..<0xa0).contains(v) {
          out += "\u{FFFD}"
        } else {
          out.unicodeScalars.append(scalar)
        }
      }
    }
    return out
  }

  /// A sort key for a number: fixed-width lowercase hex, so text order is numeric order.
  static func sortKey(_ value: UInt64) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: max(0, 16 - digits.count)) + digits
  }
}
