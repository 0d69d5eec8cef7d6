// Writes a file of a fixed length by seeking over zero runs, so a 64 MiB image with a few hundred
// written pages costs a few hundred writes and stays sparse on disk.

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A file opened for writing at explicit offsets; its length is set up front (holes read as zeros).
final class SparseFileWriter {
  let path: String
  private let fd: Int32

  /// Creates (or truncates) `path` and sets its length to `length`.
  init(path: String, length: UInt64) throws {
    self.path = path
    fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0o644)
    guard fd >= 0 else { throw ImageBuilderError.io(path: path, message: "cannot create: \(Self.errnoText())") }
    guard let signed = off_t(exactly: length), ftruncate(fd, signed) == 0 else {
      close(fd)
      throw ImageBuilderError.io(path: path, message: "cannot set length \(length): \(Self.errnoText())")
    }
  }

  deinit { close(fd) }

  /// Writes all of `bytes` at `offset`.
  func write(_ bytes: [UInt8], at offset: UInt64) throws {
    var done = 0
    while done < bytes.count {
      let n = bytes.withUnsafeBytes { buffer in
        pwrite(fd, buffer.baseAddress.map { $0 + done }, bytes.count - done, off_t(offset) + off_t(done))
      }
      guard n > 0 else {
        throw ImageBuilderError.io(
          path: path, message: "write at offset \(offset + UInt64(done)) failed: \(Self.errnoText())")
      }
      done += n
    }
  }

  private static func errnoText() -> String { String(cString: strerror(errno)) }
}
