// Standard streams: results on stdout, messages and progress on stderr, colour only on a terminal.

#if canImport(Glibc)
  import Glibc
#endif

/// A file descriptor to write text or bytes to.
struct Terminal: Sendable {
  let fd: Int32
  static let standardOutput = Terminal(fd: 1)
  static let standardError = Terminal(fd: 2)

  /// Whether the stream is a terminal (for progress and colour).
  var isTerminal: Bool { isatty(fd) != 0 }

  func write(_ text: String) { write(Array(text.utf8)) }

  func write(_ bytes: [UInt8]) {
    var offset = 0
    while offset < bytes.count {
      let n = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
      if n <= 0 { return }
      offset += n
    }
  }
}
