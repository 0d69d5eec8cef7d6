// A local TCP peer that plays a GDB stub from a script, for failures a real stub does not produce on
// demand: bad checksums, replies cut short, the stub going away. Each step waits for one packet
// from the client (acknowledged with `+`) and writes raw bytes back.

import Foundation
import TestData

#if canImport(Glibc)
  import Glibc
#endif

/// One scripted stub on 127.0.0.1 serving a single connection on a background thread.
final class ScriptedPeer: @unchecked Sendable {
  /// What the peer does after reading the client's next packet.
  enum Step {
    /// Writes these bytes.
    case reply(String)
    /// Closes the connection.
    case close
    /// Stays silent for this many seconds.
    case silence(Double)
  }

  let port: UInt16
  private let listener: Int32
  private let done = DispatchSemaphore(value: 0)
  /// The packets the client sent, in order (payloads between `$` and `#`), and the bare acks.
  private(set) var received: [String] = []
  private(set) var acks: [Character] = []

  init(_ steps: [Step]) throws {
    (listener, port) = try LoopbackPort.listen(what: "scripted peer")
    Thread.detachNewThread { [self] in
      self.serve(steps)
      self.done.signal()
    }
  }

  /// Waits for the script to finish (at most 10 s).
  func finish() { _ = done.wait(timeout: .now() + 10) }

  private func serve(_ steps: [Step]) {
    // A connection that closes before its first packet is a probe (another test checking whether
    // its own server is up on a port it chose): it is not the client, so the next one is accepted.
    var connection: Int32 = -1
    var firstRead = false
    for _ in 0..<8 {
      connection = retryingInterrupts { accept(listener, nil, nil) }
      guard connection >= 0 else { break }
      if steps.isEmpty || readPacket(connection) {
        firstRead = !steps.isEmpty
        break
      }
      close(connection)
      connection = -1
    }
    close(listener)
    guard connection >= 0 else { return }
    defer { close(connection) }
    for (index, step) in steps.enumerated() {
      if index > 0 || !firstRead {
        guard readPacket(connection) else { return }
      }
      switch step {
      case .reply(let text):
        _ = text.utf8CString.withUnsafeBufferPointer { bytes in
          retryingInterrupts { send(connection, bytes.baseAddress, bytes.count - 1, Int32(MSG_NOSIGNAL)) }
        }
      case .close: return
      case .silence(let seconds): usleep(UInt32(seconds * 1_000_000))
      }
    }
    // Drain until the client closes, so its last writes do not fail.
    var byte: UInt8 = 0
    while retryingInterrupts({ recv(connection, &byte, 1, 0) }) > 0 {
      if byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-") { acks.append(Character(UnicodeScalar(byte))) }
    }
  }

  /// Reads one `$…#cc` packet (recording it and any acks before it) and acknowledges it.
  private func readPacket(_ fd: Int32) -> Bool {
    var byte: UInt8 = 0
    var body: [UInt8] = []
    var inPacket = false
    var checksumDigits = 0
    while retryingInterrupts({ recv(fd, &byte, 1, 0) }) == 1 {
      if !inPacket {
        if byte == UInt8(ascii: "$") {
          inPacket = true
        } else if byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-") {
          acks.append(Character(UnicodeScalar(byte)))
        }
        continue
      }
      if checksumDigits > 0 || byte == UInt8(ascii: "#") {
        checksumDigits += 1
        if checksumDigits == 3 {
          received.append(String(decoding: body, as: UTF8.self))
          _ = retryingInterrupts { send(fd, "+", 1, Int32(MSG_NOSIGNAL)) }
          return true
        }
        continue
      }
      body.append(byte)
    }
    return false
  }
}
