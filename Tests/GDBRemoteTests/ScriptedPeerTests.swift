// Framing and failure handling over a real socket against a scripted peer: the connect handshake,
// run-length-encoded and escaped replies, a bad checksum (asked again with `-`, then a named error),
// a reply cut short (named as such, also a stop reply met by a short poll), the stub vanishing, an
// `Exx` reply, an interrupt whose stop reply was lost (`?` asked).
// Checksums in the scripts are computed by hand: the byte sum modulo 256 (GDB manual, "Overview").

import GDBRemote
import Testing

@Suite struct ScriptedPeerTests {
  /// A target description with three registers, as a stub may send it (one `l` chunk).
  static let description =
    #"l<?xml version="1.0"?><target><architecture>i386:x86-64</architecture><feature name="org.gnu.gdb.i386.core">"#
    + #"<reg name="rax" bitsize="64"/><reg name="rip" bitsize="64" regnum="16"/><reg name="eflags" bitsize="32"/>"#
    + "</feature></target>"

  /// The replies of the connect handshake: qSupported (no no-ack mode), then target.xml.
  static var handshake: [ScriptedPeer.Step] {
    [.reply(Self.packet("PacketSize=1000;qXfer:features:read+")), .reply(Self.packet(description))]
  }

  /// `$payload#cc` with the checksum of `payload` as sent (no escaping needed in these scripts).
  static func packet(_ payload: String) -> String {
    var sum = 0
    for byte in payload.utf8 { sum = (sum + Int(byte)) % 256 }
    let hex = String(sum, radix: 16)
    return "$" + payload + "#" + (hex.count == 1 ? "0" + hex : hex)
  }

  static func connect(_ peer: ScriptedPeer, timeout: Double = 2) throws -> GDBClient {
    try GDBClient(GDBEndpoint(host: "127.0.0.1", port: peer.port), timeout: timeout)
  }

  @Test func checksumsOfTheManualsExamples() {
    // `$g#67`: 'g' is 0x67; `$OK#9a`: 0x4f + 0x4b.
    #expect(GDBPacket.checksum(Array("g".utf8)) == 0x67)
    #expect(GDBPacket.checksum(Array("OK".utf8)) == 0x9A)
    #expect(GDBPacket.frame(Array("g".utf8)) == Array("$g#67".utf8))
    // `}` escapes: `#` (0x23) is sent as `}` 0x03; the checksum covers the escaped bytes.
    #expect(GDBPacket.frame([0x23]) == [0x24, 0x7D, 0x03, 0x23] + Array("80".utf8))
  }

  @Test func runLengthAndEscapesDecode() throws {
    // "0* " is "0000" (space = 32, 32 − 29 = 3 more), the manual's example.
    #expect(try GDBPacket.decode(Array("0* ".utf8)) == Array("0000".utf8))
    // '"' = 34: five more.
    #expect(try GDBPacket.decode(Array("a*\"b".utf8)) == Array("aaaaaab".utf8))
    #expect(try GDBPacket.decode([0x7D, 0x5D]) == [0x7D])
    #expect(throws: PacketFormatError.self) { try GDBPacket.decode(Array("* ".utf8)) }
    #expect(throws: PacketFormatError.self) { try GDBPacket.decode([0x41, 0x7D]) }
    #expect(throws: PacketFormatError.self) { try GDBPacket.decode(Array("0*\u{1F}".utf8)) }
  }

  @Test func handshakeReadsLayoutAndRunLengthRegisters() throws {
    // `g`: rax = 0 (16 zeros as "0*,": ',' = 44, 44 − 29 = 15 more), then the registers 1…15 are absent
    // from this description: rip (number 16) comes next in `g` order.
    let rip = "efbeadde00000000"
    let peer = try ScriptedPeer(
      Self.handshake + [.reply(Self.packet("0*," + rip + "02020000")), .reply(Self.packet("efbeadde00000000"))])
    let client = try Self.connect(peer)
    defer { client.close() }
    #expect(client.layout.registers.map(\.name) == ["rax", "rip", "eflags"])
    #expect(client.layout.registers.map(\.number) == [0, 16, 17])
    #expect(client.connection.acknowledging)
    let all = try client.readAllRegisters()
    #expect(all[0] == [UInt8](repeating: 0, count: 8))
    #expect(all[16].map(GDBClient.littleEndian) == 0xDEAD_BEEF)
    #expect(all[17].map(GDBClient.littleEndian) == 0x202)
    #expect(try client.readRegister("rip") == 0xDEAD_BEEF)
    client.close()
    peer.finish()
    #expect(peer.received.first?.hasPrefix("qSupported") == true)
    #expect(peer.received.dropFirst().first == "qXfer:features:read:target.xml:0,ff0")
    #expect(peer.received.suffix(2) == ["g", "p10"])
  }

  @Test func unaskedStopReplyBeforeAReplyIsSkipped() throws {
    // QEMU sends `T02thread:01;` when a connection stops a running guest, ahead of our first reply.
    let peer = try ScriptedPeer([
      .reply(Self.packet("T02thread:01;") + Self.packet("PacketSize=1000;qXfer:features:read+")),
      .reply(Self.packet(Self.description)), .reply(Self.packet("S05") + Self.packet("efbeadde00000000")),
    ])
    let client = try Self.connect(peer)
    defer { client.close() }
    #expect(client.features["qXfer:features:read"] == "+")
    #expect(try client.readRegister("rip") == 0xDEAD_BEEF)
  }

  @Test func badChecksumIsRetriedThenNamed() throws {
    // The same corrupted packet four times (a stub with a broken link): `-` three times, then the error.
    let bad = "$4142#00"
    let peer = try ScriptedPeer(Self.handshake + [.reply(bad + bad + bad + bad)])
    let client = try Self.connect(peer)
    defer { client.close() }
    #expect {
      _ = try client.readMemory(0x1000, count: 2)
    } throws: { error in
      guard case .badChecksum(_, let expected, let received, let packet) = error as? GDBRemoteError else {
        return false
      }
      // '4' + '1' + '4' + '2' = 0x34 + 0x31 + 0x34 + 0x32.
      return expected == 0xCB && received == "00" && packet == "4142"
    }
    client.close()
    peer.finish()
    #expect(peer.acks.filter { $0 == "-" }.count == 3)
  }

  @Test func badChecksumThenGoodRetransmissionIsAccepted() throws {
    let peer = try ScriptedPeer(Self.handshake + [.reply("$4142#00" + Self.packet("4142"))])
    let client = try Self.connect(peer)
    defer { client.close() }
    #expect(try client.readMemory(0x1000, count: 2) == [0x41, 0x42])
  }

  @Test func replyCutShortIsNamed() throws {
    let peer = try ScriptedPeer(Self.handshake + [.reply("$41424")])
    let client = try Self.connect(peer, timeout: 0.5)
    defer { client.close() }
    #expect {
      _ = try client.readMemory(0x2000, count: 4)
    } throws: { error in
      guard case .cutShort(_, let what, let bytes, let seconds) = error as? GDBRemoteError else { return false }
      return what.contains("m2000,4") && bytes == 6 && seconds == 0.5
    }
  }

  @Test func stopReplyCutShortIsAnErrorNotAStillRunningTarget() throws {
    // After `c`, a short poll (0.05 s) meets half a stop reply: that is an error, not "no stop yet".
    let peer = try ScriptedPeer(Self.handshake + [.reply("$T05thr")])
    let client = try Self.connect(peer, timeout: 0.5)
    defer { client.close() }
    try client.resume()
    #expect {
      _ = try client.waitForStop(timeout: 0.05)
    } throws: { error in
      guard case .cutShort(_, _, let bytes, let seconds) = error as? GDBRemoteError else { return false }
      return bytes == 7 && seconds == 0.5
    }
  }

  @Test func interruptOfAStubStoppedAlreadyAsksWhy() throws {
    // The stop reply was lost: 0x03 brings nothing, `?` says the target is stopped (S05).
    let peer = try ScriptedPeer(Self.handshake + [.silence(0), .reply(Self.packet("S05"))])
    let client = try Self.connect(peer, timeout: 0.3)
    defer { client.close() }
    try client.resume()
    let stop = try client.interrupt()
    #expect(stop.kind == .signal(5))
    #expect(!client.running)
    client.close()
    peer.finish()
    #expect(peer.received.last == "?")
  }

  @Test func stubVanishingIsConnectionClosed() throws {
    let peer = try ScriptedPeer(Self.handshake + [.close])
    let client = try Self.connect(peer)
    defer { client.close() }
    #expect {
      _ = try client.readRegister("rip")
    } throws: { error in
      guard case .connectionClosed(_, let during) = error as? GDBRemoteError else { return false }
      return during.contains("p10")
    }
  }

  @Test func errorReplyIsNamed() throws {
    let peer = try ScriptedPeer(Self.handshake + [.reply(Self.packet("E14"))])
    let client = try Self.connect(peer)
    defer { client.close() }
    #expect {
      try client.insertBreakpoint(.software, at: 0xFFFF_F800_1234_5678)
    } throws: { error in
      error as? GDBRemoteError
        == .errorReply(endpoint: "127.0.0.1:\(peer.port)", command: "Z0,fffff80012345678,1", code: 0x14)
    }
  }

  @Test func nothingListeningIsConnectFailed() throws {
    // Port 1 (tcpmux) is not served here: the connection is refused.
    #expect(throws: GDBRemoteError.self) { _ = try GDBClient(GDBEndpoint(host: "127.0.0.1", port: 1), timeout: 1) }
  }

  @Test func malformedTargetDescriptionIsNamed() throws {
    let peer = try ScriptedPeer([
      .reply(Self.packet("qXfer:features:read+")), .reply(Self.packet(#"l<target><reg name="rax"/></target>"#)),
    ])
    #expect {
      _ = try Self.connect(peer)
    } throws: { error in
      guard case .targetDescription(_, let reason) = error as? GDBRemoteError else { return false }
      return reason.contains("bitsize")
    }
  }
}
