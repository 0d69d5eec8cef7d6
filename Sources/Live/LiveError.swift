// Errors of the Live layer: a guest RAM source that cannot be read or vanished, a RAM layout that
// does not fit, and a QMP conversation that failed (connect, timeout, protocol, command).

import BinaryReading

/// Why a live source could not be read or controlled.
public enum LiveError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The RAM file could not be opened or read (`reason` is the system's word).
  case unreadable(path: String, reason: String)
  /// The RAM file is shorter than the layout needs (it was truncated or replaced by a smaller one).
  case truncated(path: String, size: UInt64, needed: UInt64)
  /// The file has a format of its own (crash dump, ELF core, …): it is not guest RAM.
  case notGuestRAM(path: String, format: String)
  /// A `--ram-layout` text that is not one of the accepted forms.
  case badLayout(text: String, reason: String)
  /// A duration text (`200ms`, `1s`, `5m`) that does not parse.
  case badDuration(text: String)
  /// The QMP socket could not be reached.
  case qmpConnect(path: String, reason: String)
  /// QEMU sent nothing within the timeout.
  case qmpTimeout(path: String, waitingFor: String, seconds: Double)
  /// QEMU closed the socket.
  case qmpClosed(path: String, waitingFor: String)
  /// QEMU sent something that is not the QMP protocol.
  case qmpProtocol(path: String, reason: String)
  /// A command answered with an error object.
  case qmpCommand(command: String, errorClass: String, message: String)

  public var description: String {
    switch self {
    case .unreadable(let path, let reason): return "\(path): cannot read guest RAM: \(reason)"
    case .truncated(let path, let size, let needed):
      return "\(path): guest RAM file is \(Hex.format(size)) bytes, the layout needs \(Hex.format(needed))"
        + " (truncated or replaced)"
    case .notGuestRAM(let path, let format):
      return "\(path): a \(format) file, not guest RAM (watch reads a memory-backend file, a memfd or a raw image)"
    case .badLayout(let text, let reason): return "--ram-layout \"\(text)\": \(reason)"
    case .badDuration(let text):
      return "\"\(text)\" is not a duration (a positive number with ms, s, m or h: 200ms, 1s, 5m)"
    case .qmpConnect(let path, let reason): return "QMP socket \(path): cannot connect: \(reason)"
    case .qmpTimeout(let path, let what, let seconds):
      return "QMP socket \(path): no answer to \(what) within \(seconds) s"
    case .qmpClosed(let path, let what): return "QMP socket \(path): QEMU closed the connection (waiting for \(what))"
    case .qmpProtocol(let path, let reason): return "QMP socket \(path): not the QMP protocol: \(reason)"
    case .qmpCommand(let command, let errorClass, let message):
      return "QMP \(command) failed: \(errorClass): \(message)"
    }
  }
}
