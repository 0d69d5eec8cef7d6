// A TCP proxy between `trace` and QEMU's gdbstub that refuses breakpoints: every `Z0`/`Z1` packet is
// answered `E01` instead of being forwarded; everything else passes through unchanged. It gives the
// "breakpoint that cannot be set" case on a real guest.

import Foundation
import TestData

#if canImport(Glibc)
  import Glibc
#endif

/// A one-connection proxy to 127.0.0.1:`upstream`.
final class TraceRefusingProxy: @unchecked Sendable {
  let port: UInt16
  private let listener: Int32
  private let upstreamPort: UInt16
  private let done = DispatchSemaphore(value: 0)

  init(upstream: UInt16) throws {
    upstreamPort = upstream
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ok = withUnsafeMutablePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        bind(fd, $0, length) == 0 && listen(fd, 1) == 0 && getsockname(fd, $0, &length) == 0
      }
    }
    guard fd >= 0, ok else { throw TestDataError.tool("proxy: bind/listen failed") }
    listener = fd
    port = UInt16(bigEndian: address.sin_port)
    Thread.detachNewThread { [self] in
      self.serve()
      self.done.signal()
    }
  }

  /// Waits (at most 10 s) until both connections are closed, so the stub accepts a new client.
  func finish() { _ = done.wait(timeout: .now() + 10) }

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
    Thread.detachNewThread {
      var byte: UInt8 = 0
      while retryingInterrupts({ recv(upstream, &byte, 1, 0) }) == 1 {
        _ = retryingInterrupts { send(client, &byte, 1, Int32(MSG_NOSIGNAL)) }
      }
      shutdown(client, Int32(SHUT_RDWR))
    }
    var packet: [UInt8] = []
    var trailing = -1  // checksum digits still to come after `#`, -1 outside a packet
    var byte: UInt8 = 0
    while retryingInterrupts({ recv(client, &byte, 1, 0) }) == 1 {
      if packet.isEmpty, byte != UInt8(ascii: "$") {
        _ = retryingInterrupts { send(upstream, &byte, 1, Int32(MSG_NOSIGNAL)) }
        continue
      }
      packet.append(byte)
      if byte == UInt8(ascii: "#"), trailing < 0 { trailing = 2 } else if trailing > 0 { trailing -= 1 }
      guard trailing == 0 else { continue }
      if packet.starts(with: Array("$Z0".utf8)) || packet.starts(with: Array("$Z1".utf8)) {
        let refusal = Array("+$E01#a6".utf8)
        _ = refusal.withUnsafeBytes { bytes in
          retryingInterrupts { send(client, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL)) }
        }
      } else {
        _ = packet.withUnsafeBytes { bytes in
          retryingInterrupts { send(upstream, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL)) }
        }
      }
      packet = []
      trailing = -1
    }
    // shutdown first: it wakes the forwarding thread blocked in recv and really ends the connection.
    shutdown(upstream, Int32(SHUT_RDWR))
    close(upstream)
    close(client)
  }
}
