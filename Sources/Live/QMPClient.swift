// A QEMU Machine Protocol client over a unix socket: the greeting, `qmp_capabilities`, then one
// command at a time (events QEMU sends meanwhile are skipped). Every read waits at most `timeout`;
// a closed socket, a timeout and an error answer are named errors. Protocol: QEMU docs/interop/qmp-spec.

import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A connection to QEMU's QMP monitor.
public final class QMPClient: @unchecked Sendable {
  // @unchecked: one command at a time, serialised by `lock`.
  public let path: String
  /// How long one answer may take.
  public let timeout: Double
  private let fd: Int32
  private var buffer: [UInt8] = []
  private let lock = NSLock()

  /// The QEMU version from the greeting (`7.2.22`).
  public private(set) var version = ""

  /// Connects to the socket at `path`, reads the greeting and enters command mode.
  public init(path: String, timeout: Double = 5) throws(LiveError) {
    self.path = path
    self.timeout = timeout
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(path.utf8)
    let capacity = MemoryLayout.size(ofValue: address.sun_path)
    guard bytes.count < capacity else {
      throw .qmpConnect(path: path, reason: "path longer than \(capacity - 1) bytes")
    }
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
      for (i, b) in bytes.enumerated() { raw[i] = b }
      raw[bytes.count] = 0
    }
    #if canImport(Glibc)
      let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    #else
      let fd = socket(AF_UNIX, SOCK_STREAM, 0)
    #endif
    guard fd >= 0 else { throw .qmpConnect(path: path, reason: String(cString: strerror(errno))) }
    let result = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
      }
    }
    guard result == 0 else {
      let reason = String(cString: strerror(errno))
      close(fd)
      throw .qmpConnect(path: path, reason: reason)
    }
    self.fd = fd
    let greeting = try readMessage(waitingFor: "the greeting")
    guard let qmp = greeting["QMP"] as? [String: Any] else {
      throw .qmpProtocol(path: path, reason: "the first message has no \"QMP\" member")
    }
    if let v = (qmp["version"] as? [String: Any])?["qemu"] as? [String: Any],
      let major = v["major"] as? Int, let minor = v["minor"] as? Int, let micro = v["micro"] as? Int
    {
      version = "\(major).\(minor).\(micro)"
    }
    _ = try execute("qmp_capabilities")
  }

  deinit { close(fd) }

  /// Runs `command` with `arguments` and returns its `return` value.
  @discardableResult
  public func execute(_ command: String, arguments: [String: Any]? = nil) throws(LiveError) -> Any {
    lock.lock()
    defer { lock.unlock() }
    do {
      var message: [String: Any] = ["execute": command]
      if let arguments { message["arguments"] = arguments }
      guard let data = try? JSONSerialization.data(withJSONObject: message) else {
        throw .qmpProtocol(path: path, reason: "cannot encode \(command)")
      }
      try send(Array(data) + [0x0a], command: command)
      while true {
        let answer = try readMessage(waitingFor: "the answer to \(command)")
        if answer["event"] != nil { continue }  // asynchronous events: not ours
        if let value = answer["return"] { return value }
        if let error = answer["error"] as? [String: Any] {
          throw .qmpCommand(
            command: command, errorClass: error["class"] as? String ?? "?", message: error["desc"] as? String ?? "")
        }
        throw .qmpProtocol(path: path, reason: "an answer with neither return nor error")
      }
    }
  }

  /// The guest's run state: `running`, `paused`, `prelaunch`, ….
  public func status() throws(LiveError) -> (status: String, running: Bool) {
    guard let value = try execute("query-status") as? [String: Any], let status = value["status"] as? String,
      let running = value["running"] as? Bool
    else { throw .qmpProtocol(path: path, reason: "query-status without status/running") }
    return (status, running)
  }

  /// Stops the guest's CPUs.
  public func stop() throws(LiveError) { try execute("stop") }
  /// Lets the guest's CPUs run again.
  public func cont() throws(LiveError) { try execute("cont") }

  /// A monitor command's text output (`info mtree`), through `human-monitor-command`.
  public func humanMonitor(_ commandLine: String) throws(LiveError) -> String {
    guard let text = try execute("human-monitor-command", arguments: ["command-line": commandLine]) as? String else {
      throw .qmpProtocol(path: path, reason: "human-monitor-command returned no text")
    }
    return text
  }

  /// The memory backends (`query-memdev`): id and size of each.
  public func memoryBackends() throws(LiveError) -> [(id: String, size: UInt64)] {
    guard let list = try execute("query-memdev") as? [[String: Any]] else {
      throw .qmpProtocol(path: path, reason: "query-memdev did not return a list")
    }
    return list.compactMap { m in
      guard let id = m["id"] as? String, let size = (m["size"] as? NSNumber)?.uint64Value else { return nil }
      return (id, size)
    }
  }

  /// The guest RAM layout QEMU uses for the backend `id` (its `ram-below-4g`/`ram-above-4g` aliases).
  public func ramLayout(backend id: String) throws(LiveError) -> GuestRAMLayout? {
    GuestRAMLayout(mtree: try humanMonitor("info mtree"), backend: id)
  }

  private func send(_ bytes: [UInt8], command: String) throws(LiveError) {
    var offset = 0
    while offset < bytes.count {
      let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
      if n < 0, errno == EINTR { continue }
      guard n > 0 else { throw .qmpClosed(path: path, waitingFor: "sending \(command)") }
      offset += n
    }
  }

  /// Largest message accepted (an `info mtree` of a big machine is a few hundred KiB).
  static let messageLimit = 16 << 20

  /// One JSON object (QMP messages end with a newline).
  private func readMessage(waitingFor what: String) throws(LiveError) -> [String: Any] {
    let deadline = Date().addingTimeInterval(timeout)
    while true {
      if let newline = buffer.firstIndex(of: 0x0a) {
        let line = Array(buffer[..<newline])
        buffer.removeSubrange(...newline)
        if line.allSatisfy({ $0 == 0x20 || $0 == 0x0d }) { continue }
        guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else {
          throw .qmpProtocol(path: path, reason: "a line that is not a JSON object")
        }
        return object
      }
      guard buffer.count <= Self.messageLimit else {
        throw .qmpProtocol(path: path, reason: "a message longer than \(Self.messageLimit) bytes")
      }
      let left = deadline.timeIntervalSinceNow
      guard left > 0 else { throw .qmpTimeout(path: path, waitingFor: what, seconds: timeout) }
      var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
      let ready = poll(&pfd, 1, Int32(min(left * 1000, 60_000).rounded(.up)))
      if ready < 0, errno == EINTR { continue }
      guard ready > 0 else { continue }  // the deadline check above ends the wait
      var chunk = [UInt8](repeating: 0, count: 65_536)
      let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
      if n < 0, errno == EINTR || errno == EAGAIN { continue }
      guard n > 0 else { throw .qmpClosed(path: path, waitingFor: what) }
      buffer.append(contentsOf: chunk[..<n])
    }
  }
}
