// `HOST:PORT` as `--gdb` takes it.

/// Where a GDB stub listens.
public struct GDBEndpoint: Sendable, Hashable, CustomStringConvertible {
  public var host: String
  public var port: UInt16

  public init(host: String, port: UInt16) {
    self.host = host
    self.port = port
  }

  /// Parses `HOST:PORT` (`:PORT` means 127.0.0.1).
  public init(parsing text: String) throws(GDBRemoteError) {
    guard let colon = text.lastIndex(of: ":") else { throw .badAddress(text, reason: "no `:PORT`") }
    let host = String(text[..<colon])
    guard let port = UInt16(text[text.index(after: colon)...]), port > 0 else {
      throw .badAddress(text, reason: "port is not a number in 1…65535")
    }
    self.host = host.isEmpty ? "127.0.0.1" : host
    self.port = port
  }

  public var description: String { "\(host):\(port)" }
}
