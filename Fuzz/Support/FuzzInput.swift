// Helpers shared by the fuzz targets: the input as an array, and a scratch file for parsers that
// only read files (memory images are memory-mapped by path).

import Foundation

/// The libFuzzer input as bytes.
func fuzzBytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
  guard let data, size > 0 else { return [] }
  return Array(UnsafeBufferPointer(start: data, count: size))
}

/// Reads a little-endian integer at `offset` of `bytes`, 0 past the end (choosing fuzz parameters).
func le<T: FixedWidthInteger>(_ bytes: [UInt8], _ offset: Int, _ type: T.Type = T.self) -> T {
  var v: T = 0
  for i in 0..<MemoryLayout<T>.size where offset + i < bytes.count {
    v |= T(truncatingIfNeeded: bytes[offset + i]) << (8 * i)
  }
  return v
}

/// A per-process scratch file in /dev/shm (or the temporary directory) holding the current input.
enum ScratchFile {
  static let path: String = {
    let dir = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
    let path = "\(dir)/callscope-fuzz-\(getpid()).bin"
    atexit { unlink(ScratchFile.path) }
    return path
  }()

  /// Writes `bytes` to the scratch file and returns its path.
  static func write(_ bytes: [UInt8]) -> String {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    guard fd >= 0 else { fatalError("cannot create \(path)") }
    var done = 0
    bytes.withUnsafeBytes { raw in
      guard let base = raw.baseAddress else { return }
      while done < raw.count {
        let n = Foundation.write(fd, base + done, raw.count - done)
        if n <= 0 { break }
        done += n
      }
    }
    close(fd)
    return path
  }
}
