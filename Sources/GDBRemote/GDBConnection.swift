// One packet exchange at a time with a GDB stub: framing, checksums, `+`/`-` acknowledgements (until
// QStartNoAckMode turns them off), retransmission on `-`, and a deadline on every read.

/// The packet-level link to a stub.
public final class GDBConnection {
  /// `host:port`, for messages.
  public var endpoint: String { socket.endpoint }
  /// Seconds any single reply may take.
  public var timeout: Double
  /// Whether acknowledgements are exchanged (false after QStartNoAckMode).
  public internal(set) var acknowledging = true
  /// How many times a packet is sent again after a `-`, and a bad reply asked for again.
  public var retries = 3
  /// Packets sent so far (retransmissions included): what a caller's round trips cost.
  public private(set) var packetsSent = 0
  let socket: GDBSocket

  /// Connects to `host:port`.
  public init(host: String, port: UInt16, timeout: Double = 5) throws(GDBRemoteError) {
    self.timeout = timeout
    socket = try GDBSocket(host: host, port: port, timeout: timeout)
  }

  /// Closes the connection.
  public func close() { socket.close() }

  /// Sends `payload` as one packet (waiting for its `+` while acknowledging).
  public func send(_ payload: String) throws(GDBRemoteError) {
    let framed = GDBPacket.frame(Array(payload.utf8))
    var attempts = 0
    while true {
      packetsSent += 1
      try socket.write(framed, timeout: timeout, what: "sending `\(Self.short(payload))`")
      guard acknowledging else { return }
      // Wait for the acknowledgement; anything else before it is line noise and skipped.
      while true {
        guard let byte = try socket.readByte(timeout: timeout, what: "the ack of `\(Self.short(payload))`") else {
          throw .timeout(endpoint: endpoint, waitingFor: "the ack of `\(Self.short(payload))`", seconds: timeout)
        }
        if byte == UInt8(ascii: "+") { return }
        if byte == UInt8(ascii: "-") { break }
      }
      attempts += 1
      guard attempts <= retries else { throw .rejected(endpoint: endpoint, command: payload, attempts: attempts) }
    }
  }

  /// Sends a raw byte outside any packet (the 0x03 interrupt).
  public func sendRaw(_ byte: UInt8) throws(GDBRemoteError) {
    try socket.write([byte], timeout: timeout, what: "sending byte \(GDBRemoteError.hex2(byte))")
  }

  /// The next packet's payload (expanded, unescaped), waiting at most `timeout` seconds (nil: the
  /// connection's). Notifications (`%…`) and stray acknowledgements are skipped.
  public func receive(for command: String, timeout: Double? = nil) throws(GDBRemoteError) -> [UInt8] {
    let limit = timeout ?? self.timeout
    var badPackets = 0
    while true {
      let what = "the reply to `\(Self.short(command))`"
      // Skip to the packet start.
      var byte: UInt8
      repeat {
        guard let next = try socket.readByte(timeout: limit, what: what) else {
          throw .timeout(endpoint: endpoint, waitingFor: what, seconds: limit)
        }
        byte = next
      } while byte != UInt8(ascii: "$")
      // Once a packet has begun, its rest gets the connection's whole deadline (a short poll of a
      // running target must not split a stop reply); a packet that stops half-way is `cutShort`.
      let rest = max(limit, self.timeout)
      var body: [UInt8] = []
      while true {
        guard let next = try socket.readByte(timeout: rest, what: what) else {
          throw .cutShort(endpoint: endpoint, waitingFor: what, bytes: 1 + body.count, seconds: rest)
        }
        if next == UInt8(ascii: "#") { break }
        body.append(next)
        guard body.count <= 1 << 24 else {
          throw .malformed(endpoint: endpoint, command: command, reason: "packet longer than 16 MiB without `#`")
        }
      }
      var digits: [UInt8] = []
      while digits.count < 2 {
        guard let next = try socket.readByte(timeout: rest, what: what) else {
          throw .cutShort(endpoint: endpoint, waitingFor: what, bytes: 2 + body.count + digits.count, seconds: rest)
        }
        digits.append(next)
      }
      let computed = GDBPacket.checksum(body)
      let received = GDBPacket.bytes(fromHex: digits)?.first
      if received == computed {
        if acknowledging { try socket.write([UInt8(ascii: "+")], timeout: limit, what: "acknowledging") }
        do {
          return try GDBPacket.decode(body)
        } catch {
          throw .malformed(endpoint: endpoint, command: command, reason: error.reason)
        }
      }
      let text = String(decoding: body.prefix(60), as: UTF8.self)
      badPackets += 1
      guard acknowledging, badPackets <= retries else {
        throw .badChecksum(
          endpoint: endpoint, expected: computed, received: String(decoding: digits, as: UTF8.self), packet: text)
      }
      try socket.write([UInt8(ascii: "-")], timeout: limit, what: "asking for `\(Self.short(command))` again")
    }
  }

  /// Sends `payload` and returns the reply as text.
  public func request(_ payload: String, timeout: Double? = nil) throws(GDBRemoteError) -> String {
    try send(payload)
    return String(decoding: try receive(for: payload, timeout: timeout), as: UTF8.self)
  }

  /// Whether a byte from the stub is waiting (a stop reply after `c`).
  public func hasPendingInput() throws(GDBRemoteError) -> Bool { try socket.hasPendingByte() }

  static func short(_ payload: String) -> String { payload.count <= 40 ? payload : String(payload.prefix(40)) + "…" }
}
