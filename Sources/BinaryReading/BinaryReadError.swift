// Errors raised while reading bytes from a file or any other byte source.

/// A read that could not be satisfied, with the source, the offset and what was expected.
public enum BinaryReadError: Error, Equatable, Sendable, CustomStringConvertible {
  /// `count` bytes at `offset` do not fit in a source of `size` bytes.
  case outOfBounds(source: String, offset: UInt64, count: UInt64, size: UInt64)
  /// Arithmetic on sizes or offsets taken from the data overflowed.
  case overflow(source: String, offset: UInt64, what: String)
  /// The operating system refused to open or map the file.
  case io(path: String, message: String)
  /// A value read from the data is not what the format requires.
  case invalid(source: String, offset: UInt64, message: String)

  public var description: String {
    switch self {
    case .outOfBounds(let source, let offset, let count, let size):
      return "\(source): \(count) byte(s) at \(Hex.format(offset)) run past the end (size \(Hex.format(size)))"
    case .overflow(let source, let offset, let what):
      return "\(source): \(what) at \(Hex.format(offset)) overflows"
    case .io(let path, let message):
      return "\(path): \(message)"
    case .invalid(let source, let offset, let message):
      return "\(source): at \(Hex.format(offset)): \(message)"
    }
  }
}
