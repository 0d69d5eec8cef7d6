// Stop replies (GDB manual, "Stop Reply Packets"): `S sig`, `T sig n:r;…` with register values,
// `thread:` and a stop reason, `W`/`X` when the target is gone; `O` console output is not a stop.

/// Why the target stopped, as the stub said.
public struct GDBStopReply: Sendable, Hashable {
  public enum Kind: Sendable, Hashable {
    /// Stopped with a signal (5, SIGTRAP, for breakpoints and steps; 2 for an interrupt).
    case signal(UInt8)
    /// The process exited with a status.
    case exited(UInt8)
    /// The process was terminated by a signal.
    case terminated(UInt8)
  }

  public var kind: Kind
  /// Register number → raw little-endian bytes, as the `T` packet carried them.
  public var registers: [Int: [UInt8]] = [:]
  /// `thread:` value, if given.
  public var thread: String?
  /// Other `key:value` pairs (`swbreak`, `hwbreak`, `watch`, …).
  public var info: [String: String] = [:]

  /// Parses a stop reply; nil for `O` (console output), which is not one.
  public static func parse(_ text: String) throws(PacketFormatError) -> GDBStopReply? {
    guard let first = text.utf8.first else { throw PacketFormatError("empty stop reply") }
    let bytes = Array(text.utf8)
    func code() throws(PacketFormatError) -> UInt8 {
      guard bytes.count >= 3, let value = GDBPacket.bytes(fromHex: bytes[1..<3])?.first else {
        throw PacketFormatError("stop reply `\(text.prefix(40))` has no two-digit code")
      }
      return value
    }
    switch first {
    case UInt8(ascii: "O"): return nil
    case UInt8(ascii: "S"): return GDBStopReply(kind: .signal(try code()))
    case UInt8(ascii: "W"): return GDBStopReply(kind: .exited(try code()))
    case UInt8(ascii: "X"): return GDBStopReply(kind: .terminated(try code()))
    case UInt8(ascii: "T"):
      var reply = GDBStopReply(kind: .signal(try code()))
      for pair in text.dropFirst(3).split(separator: ";") {
        guard let colon = pair.firstIndex(of: ":") else { continue }
        let key = String(pair[..<colon])
        let value = String(pair[pair.index(after: colon)...])
        if let number = Int(key, radix: 16), key.utf8.allSatisfy({ GDBPacket.nibble($0) != nil }) {
          guard let raw = GDBPacket.bytes(fromHex: value.utf8) else {
            throw PacketFormatError("register \(key) in the stop reply is not hex: `\(value.prefix(40))`")
          }
          reply.registers[number] = raw
        } else if key == "thread" {
          reply.thread = value
        } else {
          reply.info[key] = value
        }
      }
      return reply
    default:
      throw PacketFormatError("`\(text.prefix(40))` is not a stop reply")
    }
  }
}
