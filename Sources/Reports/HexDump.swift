// Classic hexdump lines: address, 16 bytes in hex, printable ASCII.

/// Renders bytes as `address  xx xx … |ascii|` lines of 16.
public enum HexDump {
  public static func render(_ bytes: [UInt8], startingAt address: UInt64) -> String {
    var out = ""
    var offset = 0
    while offset < bytes.count {
      let line = bytes[offset..<min(offset + 16, bytes.count)]
      let a = address &+ UInt64(offset)  // addresses wrap like the hardware's
      var text = String(a, radix: 16)
      text = String(repeating: "0", count: max(0, 16 - text.count)) + text + "  "
      for i in 0..<16 {
        if i < line.count {
          let b = line[line.startIndex + i]
          text += (b < 16 ? "0" : "") + String(b, radix: 16) + " "
        } else {
          text += "   "
        }
        if i == 7 { text += " " }
      }
      text += " |"
      for b in line { text.unicodeScalars.append(b >= 0x20 && b < 0x7f ? Unicode.Scalar(b) : ".") }
      out += text + "|\n"
      offset += 16
    }
    return out
  }
}
