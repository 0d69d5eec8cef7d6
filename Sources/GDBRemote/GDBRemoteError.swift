// Every way a conversation with a GDB stub can fail, each naming the stub, the command and what was
// expected, so a caller can tell a dead peer from a refused request.

/// An error talking to a GDB remote-serial-protocol stub.
public enum GDBRemoteError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The address could not be parsed or resolved (`HOST:PORT` expected).
  case badAddress(String, reason: String)
  /// The TCP connection could not be opened.
  case connectFailed(endpoint: String, reason: String)
  /// No byte arrived within the deadline.
  case timeout(endpoint: String, waitingFor: String, seconds: Double)
  /// A packet began but did not end (its body or checksum) within the deadline.
  case cutShort(endpoint: String, waitingFor: String, bytes: Int, seconds: Double)
  /// The stub closed the connection (or it failed) while a reply was awaited.
  case connectionClosed(endpoint: String, during: String)
  /// A packet's checksum did not match its payload, again after retransmissions.
  case badChecksum(endpoint: String, expected: UInt8, received: String, packet: String)
  /// The stub rejected our packet (`-`) more times than allowed.
  case rejected(endpoint: String, command: String, attempts: Int)
  /// Bytes that are not a packet: an escape or run-length marker in the wrong place, non-hex data.
  case malformed(endpoint: String, command: String, reason: String)
  /// The stub answered `Exx`.
  case errorReply(endpoint: String, command: String, code: UInt8)
  /// The stub answered with an empty packet: it does not implement the command.
  case unsupported(endpoint: String, command: String)
  /// The stub answered, but not in the form the command defines.
  case unexpectedReply(endpoint: String, command: String, reply: String)
  /// The target description (`qXfer:features:read`) lacks something or is not well formed.
  case targetDescription(endpoint: String, reason: String)
  /// A register the caller needs is not in the stub's register layout.
  case unknownRegister(endpoint: String, name: String)

  public var description: String {
    switch self {
    case .badAddress(let text, let reason): return "GDB address `\(text)`: \(reason) (HOST:PORT expected)"
    case .connectFailed(let endpoint, let reason): return "GDB stub \(endpoint): cannot connect: \(reason)"
    case .timeout(let endpoint, let what, let seconds):
      return "GDB stub \(endpoint): no reply to \(what) within \(seconds) s"
    case .cutShort(let endpoint, let what, let bytes, let seconds):
      return "GDB stub \(endpoint): \(what) was cut short (\(bytes) bytes of the packet, then nothing for \(seconds) s)"
    case .connectionClosed(let endpoint, let during):
      return "GDB stub \(endpoint): connection closed during \(during)"
    case .badChecksum(let endpoint, let expected, let received, let packet):
      return "GDB stub \(endpoint): bad checksum on packet `\(packet)` (computed \(Self.hex2(expected)), "
        + "received `\(received)`)"
    case .rejected(let endpoint, let command, let attempts):
      return "GDB stub \(endpoint): `\(command)` rejected (-) \(attempts) times"
    case .malformed(let endpoint, let command, let reason):
      return "GDB stub \(endpoint): malformed reply to `\(command)`: \(reason)"
    case .errorReply(let endpoint, let command, let code):
      return "GDB stub \(endpoint): `\(command)` failed with E\(Self.hex2(code))"
    case .unsupported(let endpoint, let command):
      return "GDB stub \(endpoint): `\(command)` is not supported (empty reply)"
    case .unexpectedReply(let endpoint, let command, let reply):
      return "GDB stub \(endpoint): unexpected reply to `\(command)`: `\(reply.prefix(80))`"
    case .targetDescription(let endpoint, let reason):
      return "GDB stub \(endpoint): target description: \(reason)"
    case .unknownRegister(let endpoint, let name):
      return "GDB stub \(endpoint): register `\(name)` is not in the stub's target description"
    }
  }

  static func hex2(_ value: UInt8) -> String {
    let digits = String(value, radix: 16)
    return digits.count == 1 ? "0" + digits : digits
  }
}
