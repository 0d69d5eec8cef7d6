// A TCP connection to a GDB stub: connect with a deadline, TCP_NODELAY (every packet is a round
// trip), writes of whole buffers and reads that wait at most a given time (poll), never forever.

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A connected TCP socket with timed reads.
final class GDBSocket {
  let endpoint: String
  private var descriptor: Int32
  private var buffer: [UInt8] = []
  private var bufferIndex = 0

  /// Connects to `host:port` (a numeric IPv4 address or a name), waiting at most `timeout` seconds.
  init(host: String, port: UInt16, timeout: Double) throws(GDBRemoteError) {
    endpoint = "\(host):\(port)"
    var hints = addrinfo()
    hints.ai_family = AF_INET
    #if canImport(Glibc)
      hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    #else
      hints.ai_socktype = SOCK_STREAM
    #endif
    var result: UnsafeMutablePointer<addrinfo>?
    let status = getaddrinfo(host, String(port), &hints, &result)
    guard status == 0, let info = result else {
      throw .badAddress(endpoint, reason: String(cString: gai_strerror(status)))
    }
    defer { freeaddrinfo(info) }
    let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
    guard fd >= 0 else { throw .connectFailed(endpoint: endpoint, reason: Self.errnoText()) }
    descriptor = fd
    let flags = fcntl(fd, F_GETFL, 0)
    _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
    if connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) != 0 {
      guard errno == EINPROGRESS else {
        let reason = Self.errnoText()
        Self.closeDescriptor(fd)
        throw .connectFailed(endpoint: endpoint, reason: reason)
      }
      guard Self.poll(fd, events: Int16(POLLOUT), timeout: timeout) else {
        Self.closeDescriptor(fd)
        throw .connectFailed(endpoint: endpoint, reason: "no answer within \(timeout) s")
      }
      var error: Int32 = 0
      var length = socklen_t(MemoryLayout<Int32>.size)
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
      guard error == 0 else {
        Self.closeDescriptor(fd)
        throw .connectFailed(endpoint: endpoint, reason: String(cString: strerror(error)))
      }
    }
    var one: Int32 = 1
    setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    #if canImport(Darwin)
      setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, socklen_t(MemoryLayout<Int32>.size))
    #endif
  }

  deinit { if descriptor >= 0 { Self.closeDescriptor(descriptor) } }

  /// Closes the connection (idempotent).
  func close() {
    if descriptor >= 0 {
      Self.closeDescriptor(descriptor)
      descriptor = -1
    }
  }

  static func closeDescriptor(_ fd: Int32) {
    #if canImport(Glibc)
      _ = Glibc.close(fd)
    #else
      _ = Darwin.close(fd)
    #endif
  }

  var isOpen: Bool { descriptor >= 0 }

  /// Writes all of `bytes`, waiting at most `timeout` seconds for room.
  func write(_ bytes: [UInt8], timeout: Double, what: String) throws(GDBRemoteError) {
    var offset = 0
    while offset < bytes.count {
      guard descriptor >= 0 else { throw .connectionClosed(endpoint: endpoint, during: what) }
      let written = bytes[offset...].withUnsafeBytes { raw -> Int in
        #if canImport(Glibc)
          return send(descriptor, raw.baseAddress, raw.count, Int32(MSG_NOSIGNAL))
        #else
          return send(descriptor, raw.baseAddress, raw.count, 0)
        #endif
      }
      if written > 0 {
        offset += written
      } else if written < 0, errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR {
        guard Self.poll(descriptor, events: Int16(POLLOUT), timeout: timeout) else {
          throw .timeout(endpoint: endpoint, waitingFor: what, seconds: timeout)
        }
      } else {
        throw .connectionClosed(endpoint: endpoint, during: what)
      }
    }
  }

  /// The next byte, or nil when none arrived within `timeout` seconds; throws when the peer closed.
  func readByte(timeout: Double, what: String) throws(GDBRemoteError) -> UInt8? {
    if bufferIndex < buffer.count {
      defer { bufferIndex += 1 }
      return buffer[bufferIndex]
    }
    guard try fill(timeout: timeout, what: what) else { return nil }
    defer { bufferIndex += 1 }
    return buffer[bufferIndex]
  }

  /// Whether a byte is waiting (without blocking).
  func hasPendingByte() throws(GDBRemoteError) -> Bool {
    if bufferIndex < buffer.count { return true }
    return try fill(timeout: 0, what: "a pending byte")
  }

  /// Reads what the peer has sent into the buffer; false on timeout.
  private func fill(timeout: Double, what: String) throws(GDBRemoteError) -> Bool {
    guard descriptor >= 0 else { throw .connectionClosed(endpoint: endpoint, during: what) }
    while true {
      var chunk = [UInt8](repeating: 0, count: 65_536)
      let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
      if count > 0 {
        #if canImport(Glibc)
          // ACK at once (Linux re-arms delayed ACKs after reads): a stub that writes its `+` and its
          // reply separately, with Nagle on, holds the reply until our ACK of the `+` arrives.
          var one: Int32 = 1
          setsockopt(descriptor, Int32(IPPROTO_TCP), Int32(TCP_QUICKACK), &one, socklen_t(MemoryLayout<Int32>.size))
        #endif
        buffer = Array(chunk[0..<count])
        bufferIndex = 0
        return true
      }
      if count == 0 { throw .connectionClosed(endpoint: endpoint, during: what) }
      guard errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR else {
        throw .connectionClosed(endpoint: endpoint, during: what)
      }
      if timeout <= 0 { return false }
      guard Self.poll(descriptor, events: Int16(POLLIN), timeout: timeout) else { return false }
    }
  }

  /// Waits for `events` on `fd` at most `timeout` seconds.
  static func poll(_ fd: Int32, events: Int16, timeout: Double) -> Bool {
    var entry = pollfd(fd: fd, events: events, revents: 0)
    let milliseconds = Int32(max(0, min(timeout, 86_400)) * 1000)
    while true {
      let ready = withUnsafeMutablePointer(to: &entry) { pointer in
        #if canImport(Glibc)
          Glibc.poll(pointer, 1, milliseconds)
        #else
          Darwin.poll(pointer, 1, milliseconds)
        #endif
      }
      if ready < 0, errno == EINTR { continue }  // a signal: the caller checks its flag after the wait
      return ready > 0
    }
  }

  static func errnoText() -> String { String(cString: strerror(errno)) }
}
