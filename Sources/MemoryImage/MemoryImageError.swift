// Errors of the MemoryImage layer: unreadable or malformed image files and unbacked addresses.

import BinaryReading

/// Why an image could not be opened or a physical read failed.
public enum MemoryImageError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The file could not be read at all (open, map, or a read past its end).
  case io(BinaryReadError)
  /// The content matches no supported format.
  case unknownFormat(path: String, detail: String)
  /// The file has the format's signature but a structure in it is malformed.
  case corrupt(path: String, offset: UInt64, message: String)
  /// The format or variant is recognised but not supported yet.
  case unsupported(path: String, message: String)
  /// A physical address the image holds no data for.
  case notBacked(path: String, address: UInt64, count: Int)
  /// A compressed file CallScope does not decompress itself: `command` decompresses it.
  case compressed(path: String, format: String, command: String)

  public var description: String {
    switch self {
    case .io(let e): return e.description
    case .unknownFormat(let path, let detail): return "\(path): not a supported memory image (\(detail))"
    case .corrupt(let path, let offset, let message): return "\(path): at offset \(Hex.format(offset)): \(message)"
    case .unsupported(let path, let message): return "\(path): not supported yet: \(message)"
    case .notBacked(let path, let address, let count):
      return "\(path): physical address \(Hex.format(address)) (\(count) bytes) is not in the image"
    case .compressed(let path, let format, let command):
      return "\(path): a \(format)-compressed file (signature at offset 0x0); CallScope reads xz and gzip "
        + "images itself, not \(format): decompress it first with\n  \(command)\nand open the result"
    }
  }
}
