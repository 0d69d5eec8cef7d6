// Loopback TCP ports for the processes tests start (QEMU's gdbstub). A port is chosen at random
// below the kernel's ephemeral range: a port that bind(0) handed out and released would be handed
// out again to the next bind(0) — a scripted peer in a parallel test — which then answers the
// probe meant for QEMU.

import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Ports on 127.0.0.1 for test processes.
public enum LoopbackPort {
  /// A port nobody listens on now, outside the ephemeral range (bind(0) never returns it).
  public static func free() throws -> UInt16 {
    let ephemeralLow = ephemeralRangeStart()
    // Registered ports from 10000 up to the ephemeral range (32768 by default on Linux).
    let low: UInt16 = 10_000
    let high: UInt16 = ephemeralLow > low + 1000 ? ephemeralLow - 1 : 30_000
    var generator = SystemRandomNumberGenerator()
    for _ in 0..<64 {
      let port = UInt16.random(in: low...high, using: &generator)
      if try canBind(port) { return port }
    }
    throw TestDataError.tool("no free loopback port in \(low)…\(high) after 64 tries")
  }

  /// A listening TCP socket on 127.0.0.1 at a port the kernel chose (the test peers: scripted
  /// stubs and proxies); its descriptor and port.
  public static func listen(what: String) throws -> (fd: Int32, port: UInt16) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestDataError.tool("\(what): socket failed: \(String(cString: strerror(errno)))") }
    var address = loopback(0)
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ok = withUnsafeMutablePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        bind(fd, $0, length) == 0 && Glibc.listen(fd, 1) == 0 && getsockname(fd, $0, &length) == 0
      }
    }
    guard ok else {
      let reason = String(cString: strerror(errno))
      close(fd)
      throw TestDataError.tool("\(what): bind/listen failed: \(reason)")
    }
    return (fd, UInt16(bigEndian: address.sin_port))
  }

  /// Whether something accepts a TCP connection on 127.0.0.1:`port` now.
  public static func accepts(_ port: UInt16) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var address = loopback(port)
    let result = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    return result == 0
  }

  static func canBind(_ port: UInt16) throws -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestDataError.tool("socket: \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var address = loopback(port)
    let bound = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    return bound == 0
  }

  static func loopback(_ port: UInt16) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = port.bigEndian
    return address
  }

  /// The first port of /proc/sys/net/ipv4/ip_local_port_range (32768 when unreadable).
  static func ephemeralRangeStart() -> UInt16 {
    guard let text = try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8),
      let first = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).first,
      let value = UInt16(first)
    else { return 32_768 }
    return value
  }
}
