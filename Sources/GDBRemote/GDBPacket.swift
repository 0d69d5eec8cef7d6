// The packet layer of the GDB remote serial protocol (GDB manual, "Overview" of the Remote Protocol):
// `$payload#cc` with a modulo-256 checksum of the payload, `}` escapes (byte XOR 0x20) for `$ # } *`,
// and run-length encoding in replies (`X*n`: X repeated n - 29 more times).

/// Encoding and decoding of packet payloads.
public enum GDBPacket {
  /// The sum of `bytes` modulo 256.
  public static func checksum<C: Collection>(_ bytes: C) -> UInt8 where C.Element == UInt8 {
    var sum: UInt8 = 0
    for byte in bytes { sum &+= byte }  // modulo 256 by definition
    return sum
  }

  /// The bytes that need a `}` escape inside a packet.
  static func needsEscape(_ byte: UInt8) -> Bool { byte == 0x24 || byte == 0x23 || byte == 0x7D || byte == 0x2A }

  /// `payload` escaped and framed: `$…#cc`.
  public static func frame(_ payload: [UInt8]) -> [UInt8] {
    var body: [UInt8] = []
    body.reserveCapacity(payload.count + 4)
    for byte in payload {
      if needsEscape(byte) {
        body.append(0x7D)
        body.append(byte ^ 0x20)
      } else {
        body.append(byte)
      }
    }
    let sum = checksum(body)
    return [0x24] + body + [0x23] + hexDigits(sum)
  }

  /// The two lowercase hex digits of `value`.
  static func hexDigits(_ value: UInt8) -> [UInt8] {
    let digits: [UInt8] = Array("0123456789abcdef".utf8)
    return [digits[Int(value >> 4)], digits[Int(value & 0xF)]]
  }

  /// The payload of a received packet body (between `$` and `#`) with run-length encoding expanded and
  /// escapes removed. Throws a reason when a marker has nothing to apply to.
  public static func decode(_ body: [UInt8]) throws(PacketFormatError) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(body.count)
    var index = 0
    while index < body.count {
      let byte = body[index]
      switch byte {
      case 0x7D:  // `}`: the next byte XOR 0x20
        guard index + 1 < body.count else { throw PacketFormatError("escape `}` at the end of the packet") }
        out.append(body[index + 1] ^ 0x20)
        index += 2
      case 0x2A:  // `*`: repeat the previous byte
        guard let previous = out.last else { throw PacketFormatError("run-length `*` with no byte before it") }
        guard index + 1 < body.count else { throw PacketFormatError("run-length `*` at the end of the packet") }
        let count = Int(body[index + 1])
        // Counts are printable characters from ' ' + 3 (32) upwards; 29 is subtracted (repeat count).
        guard count >= 29 + 3, count <= 126 else {
          throw PacketFormatError("run-length count byte \(count) outside 32…126")
        }
        out.append(contentsOf: repeatElement(previous, count: count - 29))
        index += 2
      default:
        out.append(byte)
        index += 1
      }
    }
    return out
  }

  /// The bytes `hex` stands for (two digits a byte), or nil when it is not even-length hex.
  public static func bytes(fromHex hex: some Collection<UInt8>) -> [UInt8]? {
    guard hex.count % 2 == 0 else { return nil }
    var out: [UInt8] = []
    out.reserveCapacity(hex.count / 2)
    var high: UInt8?
    for char in hex {
      guard let nibble = nibble(char) else { return nil }
      if let h = high {
        out.append(h << 4 | nibble)
        high = nil
      } else {
        high = nibble
      }
    }
    return out
  }

  /// `bytes` as lowercase hex.
  public static func hex(_ bytes: some Sequence<UInt8>) -> String {
    var out: [UInt8] = []
    for byte in bytes { out.append(contentsOf: hexDigits(byte)) }
    return String(decoding: out, as: UTF8.self)
  }

  /// The value of one hex digit.
  static func nibble(_ char: UInt8) -> UInt8? {
    switch char {
    case 0x30...0x39: return char - 0x30
    case 0x61...0x66: return char - 0x61 + 10
    case 0x41...0x46: return char - 0x41 + 10
    default: return nil
    }
  }
}

/// Why a packet body could not be decoded.
public struct PacketFormatError: Error, Sendable, Equatable {
  public let reason: String
  public init(_ reason: String) { self.reason = reason }
}
