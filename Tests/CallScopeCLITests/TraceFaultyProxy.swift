// A TCP proxy between `trace` and QEMU's gdbstub that injects one kind of fault, for the failures a
// real stub does not produce on demand: breakpoints refused (every `Z0`/`Z1` answered `E01` instead
// of being forwarded), stop replies of the stub (`T05`, counted from QEMU's answer to `?`) delivered
// with a wrong checksum, or one cut short (its first half forwarded, the rest dropped). Everything
// else passes through unchanged, so `trace` can still clean up through the proxy afterwards.

import Foundation
import TestData

#if canImport(Glibc)
  import Glibc
#endif

/// A one-connection proxy to 127.0.0.1:`upstream`.
final class TraceFaultyProxy: @unchecked Sendable {
  /// The fault injected.
  enum Fault {
    case refuseBreakpoints
    /// From the `nth` `T05` stop reply (1-based) on, `times` of them with their checksum digits
    /// replaced (a retransmission after `-` is the next `T05`).
    case badChecksum(nth: Int, times: Int)
    /// The `nth` `T05` stop reply cut after half its bytes (nothing more of it is sent).
    case cutShort(nth: Int)
  }

  let port: UInt16
  let fault: Fault
  private let listener: Int32
  private let upstreamPort: UInt16
  private let done = DispatchSemaphore(value: 0)

  init(upstream: UInt16, fault: Fault) throws {
    upstreamPort = upstream
    self.fault = fault
    (listener, port) = try LoopbackPort.listen(what: "proxy")
    Thread.detachNewThread { [self] in
      self.serve()
      self.done.signal()
    }
  }

  /// Waits (at most 10 s) until both connections are closed, so the stub accepts a new client.
  func finish() { _ = done.wait(timeout: .now() + 10) }

  private static func write(_ fd: Int32, _ bytes: [UInt8]) {
    _ = bytes.withUnsafeBytes { raw in
      retryingInterrupts { send(fd, raw.baseAddress, raw.count, Int32(MSG_NOSIGNAL)) }
    }
  }

  /// Reads `from` until it closes, handing each complete `$…#cc` packet to `packet` and every byte
  /// outside a packet (acks, 0x03) to `other`.
  private static func pump(_ from: Int32, packet: ([UInt8]) -> Void, other: (UInt8) -> Void) {
    var current: [UInt8] = []
    var trailing = -1  // checksum digits still to come after `#`, -1 outside a packet
    var byte: UInt8 = 0
    while retryingInterrupts({ recv(from, &byte, 1, 0) }) == 1 {
      if current.isEmpty, byte != UInt8(ascii: "$") {
        other(byte)
        continue
      }
      current.append(byte)
      if byte == UInt8(ascii: "#"), trailing < 0 { trailing = 2 } else if trailing > 0 { trailing -= 1 }
      guard trailing == 0 else { continue }
      packet(current)
      current = []
      trailing = -1
    }
  }

  /// The stub's packet as forwarded: possibly the faulty one.
  private func fromStub(_ packet: [UInt8], stopReplies: inout Int) -> [UInt8] {
    guard packet.starts(with: Array("$T05".utf8)) else { return packet }
    stopReplies += 1
    switch fault {
    case .badChecksum(let nth, let times) where stopReplies >= nth && stopReplies - nth < times:
      // The checksum digits replaced by their complement: never the right sum.
      let digits = packet.suffix(2).map { $0 == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0") }
      return packet.dropLast(2) + digits
    case .cutShort(let nth) where nth == stopReplies:
      return Array(packet.prefix(packet.count / 2))
    default:
      return packet
    }
  }

  private func serve() {
    let client = retryingInterrupts { accept(listener, nil, nil) }
    close(listener)
    guard client >= 0 else { return }
    let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = upstreamPort.bigEndian
    let connected = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
      }
    }
    guard connected else {
      close(client)
      return
    }
    Thread.detachNewThread { [self] in
      var stopReplies = 0
      Self.pump(
        upstream, packet: { Self.write(client, self.fromStub($0, stopReplies: &stopReplies)) },
        other: { Self.write(client, [$0]) })
      shutdown(client, Int32(SHUT_RDWR))
    }
    let refusing: Bool
    if case .refuseBreakpoints = fault { refusing = true } else { refusing = false }
    Self.pump(
      client,
      packet: { packet in
        if refusing, packet.starts(with: Array("$Z0".utf8)) || packet.starts(with: Array("$Z1".utf8)) {
          Self.write(client, Array("+$E01#a6".utf8))
        } else {
          Self.write(upstream, packet)
        }
      }, other: { Self.write(upstream, [$0]) })
    // shutdown first: it wakes the forwarding thread blocked in recv and really ends the connection.
    shutdown(upstream, Int32(SHUT_RDWR))
    close(upstream)
    close(client)
  }
}
