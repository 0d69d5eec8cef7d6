// Decompresses an xz or gzip image to a temporary file, streaming: the compressed file is mapped,
// the decoder writes 1 MiB at a time, all-zero pages become holes (a sparse file, as a memory
// image's unbacked ranges are), and nothing is held in memory. The caller maps the result and
// removes it. Formats: the .xz file format (liblzma stream decoder, concatenated streams), gzip
// (RFC 1952, zlib inflate, concatenated members).

import BinaryReading
import CLZMA
import CZlib

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Streams a compressed image into a temporary file.
enum StreamDecompressor {
  /// Output chunk size.
  static let chunk = 1 << 20
  /// The largest image written (1 TiB): a bound on decompression bombs; physical memory images are smaller.
  static let maximumOutput: UInt64 = 1 << 40

  /// Progress callback: compressed bytes consumed, compressed size.
  typealias Progress = @Sendable (UInt64, UInt64) -> Void

  /// Decompresses `file` (`format`: xz or gzip) into a new temporary file and returns its path;
  /// on error nothing is left behind.
  static func decompress(_ file: MappedFile, format: CompressionFormat, progress: Progress?) throws(MemoryImageError)
    -> String
  {
    let directory = temporaryDirectory()
    var template = Array("\(directory)/callscope-\(format.rawValue)-XXXXXX".utf8CString)
    let fd = template.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.map { mkstemp($0) } ?? -1 }
    // mkstemp replaced the Xs in place; drop the terminating NUL.
    let temporary = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    guard fd >= 0 else {
      throw .io(.io(path: file.path, message: "cannot create a temporary file in \(directory): \(errnoText())"))
    }
    var ok = false
    defer {
      close(fd)
      if !ok { unlink(temporary) }
    }
    let sink = SparseSink(fd: fd, path: temporary, source: file.path)
    guard let size = Int(exactly: file.size) else {
      throw .unsupported(path: file.path, message: "compressed file of \(file.size) bytes")
    }
    do {
      try file.withBytes(at: 0, count: size) { (input: UnsafeRawBufferPointer) throws -> Void in
        switch format {
        case .xz: try xz(input, into: sink, path: file.path, progress: progress)
        case .gzip: try gzip(input, into: sink, path: file.path, progress: progress)
        default: throw MemoryImageError.compressed(path: file.path, format: format.rawValue, command: "")
        }
      }
    } catch let error as MemoryImageError {
      throw error
    } catch let error as BinaryReadError {
      throw .io(error)
    } catch {
      throw .io(.io(path: file.path, message: "\(error)"))
    }
    try sink.finish()
    ok = true
    return temporary
  }

  static func temporaryDirectory() -> String {
    var directory = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
    if directory.isEmpty { directory = "/tmp" }
    while directory.count > 1 && directory.hasSuffix("/") { directory.removeLast() }
    return directory
  }

  static func errnoText() -> String { String(cString: strerror(errno)) }

  /// Decodes every .xz stream of `input`.
  static func xz(_ input: UnsafeRawBufferPointer, into sink: SparseSink, path: String, progress: Progress?)
    throws(MemoryImageError)
  {
    var stream = lzma_stream()
    // 512 MiB of decoder memory covers every preset; 0x08 is LZMA_CONCATENATED (lzma/container.h).
    guard lzma_stream_decoder(&stream, 512 << 20, 0x08) == LZMA_OK else {
      throw .corrupt(path: path, offset: 0, message: "xz: cannot initialise the decoder")
    }
    defer { lzma_end(&stream) }
    var out = [UInt8](repeating: 0, count: chunk)
    stream.next_in = input.baseAddress?.assumingMemoryBound(to: UInt8.self)
    stream.avail_in = input.count
    while true {
      let action = stream.avail_in == 0 ? LZMA_FINISH : LZMA_RUN
      var produced = 0
      let ret: lzma_ret = out.withUnsafeMutableBufferPointer { buffer in
        stream.next_out = buffer.baseAddress
        stream.avail_out = buffer.count
        let r = lzma_code(&stream, action)
        produced = buffer.count - stream.avail_out
        return r
      }
      try sink.write(out, count: produced)
      progress?(UInt64(input.count - stream.avail_in), UInt64(input.count))
      if ret == LZMA_STREAM_END { return }
      let consumed = UInt64(input.count - stream.avail_in)
      switch ret {
      case LZMA_OK: continue
      case LZMA_BUF_ERROR where produced == 0:
        throw .corrupt(
          path: path, offset: consumed, message: "xz: the file ends before the end of the stream (truncated)")
      case LZMA_BUF_ERROR: continue
      case LZMA_DATA_ERROR: throw .corrupt(path: path, offset: consumed, message: "xz: compressed data is corrupt")
      case LZMA_FORMAT_ERROR: throw .corrupt(path: path, offset: consumed, message: "xz: not an xz stream")
      case LZMA_MEMLIMIT_ERROR:
        throw .unsupported(path: path, message: "xz stream needs more than 512 MiB of decoder memory")
      default: throw .corrupt(path: path, offset: consumed, message: "xz: decoder error \(ret.rawValue)")
      }
    }
  }

  /// Decodes every gzip member of `input`.
  static func gzip(_ input: UnsafeRawBufferPointer, into sink: SparseSink, path: String, progress: Progress?)
    throws(MemoryImageError)
  {
    var stream = z_stream()
    // windowBits 15 + 16: gzip wrapper only (zlib.h).
    guard inflateInit2_(&stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
      throw .corrupt(path: path, offset: 0, message: "gzip: cannot initialise zlib")
    }
    defer { inflateEnd(&stream) }
    var out = [UInt8](repeating: 0, count: chunk)
    guard let base = input.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
      throw .corrupt(path: path, offset: 0, message: "gzip: empty input")
    }
    var offset = 0  // input bytes handed to zlib so far
    while true {
      // avail_in is 32 bits: hand the input over in pieces of at most 1 GiB.
      if stream.avail_in == 0 && offset < input.count {
        let piece = min(input.count - offset, 1 << 30)
        stream.next_in = UnsafeMutablePointer(mutating: base + offset)
        stream.avail_in = UInt32(piece)
        offset += piece
      }
      let consumedBefore = offset - Int(stream.avail_in)
      var produced = 0
      let ret: Int32 = out.withUnsafeMutableBufferPointer { buffer in
        stream.next_out = buffer.baseAddress
        stream.avail_out = UInt32(buffer.count)
        let r = inflate(&stream, Z_NO_FLUSH)
        produced = buffer.count - Int(stream.avail_out)
        return r
      }
      try sink.write(out, count: produced)
      let consumed = offset - Int(stream.avail_in)
      progress?(UInt64(consumed), UInt64(input.count))
      switch ret {
      case Z_STREAM_END:
        // Another member may follow (gzip files concatenate); trailing zero padding is allowed.
        guard consumed < input.count else { return }
        let rest = UnsafeRawBufferPointer(start: base + consumed, count: input.count - consumed)
        if rest.allSatisfy({ $0 == 0 }) { return }
        guard inflateReset(&stream) == Z_OK else {
          throw .corrupt(path: path, offset: UInt64(consumed), message: "gzip: cannot reset zlib")
        }
      case Z_OK: continue
      case Z_BUF_ERROR:
        // No progress with room for output: the input ran out (truncated) or cannot be decoded.
        guard produced == 0 && consumed == consumedBefore else { continue }
        let ended = stream.avail_in == 0 && offset >= input.count
        throw .corrupt(
          path: path, offset: UInt64(consumed),
          message: ended
            ? "gzip: the file ends before the end of the stream (truncated)" : "gzip: no progress (corrupt)")
      default:
        let message = stream.msg.map { String(cString: $0) } ?? "error \(ret)"
        throw .corrupt(path: path, offset: UInt64(consumed), message: "gzip: \(message)")
      }
    }
  }
}

/// Writes decompressed bytes at increasing offsets, leaving all-zero pages as holes.
final class SparseSink {
  let fd: Int32
  let path: String
  let source: String
  private(set) var size: UInt64 = 0

  init(fd: Int32, path: String, source: String) {
    self.fd = fd
    self.path = path
    self.source = source
  }

  /// Appends the first `count` bytes of `bytes`.
  func write(_ bytes: [UInt8], count: Int) throws(MemoryImageError) {
    guard count > 0 else { return }
    guard size <= StreamDecompressor.maximumOutput &- UInt64(count) else {
      throw .unsupported(
        path: source, message: "decompresses to more than \(StreamDecompressor.maximumOutput >> 30) GiB")
    }
    let page = 0x1000
    var start = 0
    while start < count {
      let end = min(start + page, count)
      if !Self.isZero(bytes, start, end) {
        // Write the run of non-zero pages at once.
        var runEnd = end
        while runEnd < count {
          let next = min(runEnd + page, count)
          if Self.isZero(bytes, runEnd, next) { break }
          runEnd = next
        }
        try pwriteAll(bytes, from: start, to: runEnd)
        start = runEnd
      } else {
        start = end
      }
    }
    size += UInt64(count)
  }

  private static let zeroPage = [UInt8](repeating: 0, count: 0x1000)

  /// Whether `bytes[from..<to]` (at most a page) are all zero.
  static func isZero(_ bytes: [UInt8], _ from: Int, _ to: Int) -> Bool {
    bytes.withUnsafeBytes { b in
      zeroPage.withUnsafeBytes { z in
        guard let bp = b.baseAddress, let zp = z.baseAddress, to - from <= z.count else { return false }
        return memcmp(bp + from, zp, to - from) == 0
      }
    }
  }

  private func pwriteAll(_ bytes: [UInt8], from: Int, to: Int) throws(MemoryImageError) {
    var done = from
    while done < to {
      let n = bytes.withUnsafeBytes { b -> Int in
        guard let base = b.baseAddress else { return -1 }
        return pwrite(fd, base + done, to - done, off_t(size) + off_t(done))
      }
      guard n > 0 else {
        throw .io(
          .io(
            path: source,
            message: "cannot write the decompressed image to \(path): \(StreamDecompressor.errnoText())"))
      }
      done += n
    }
  }

  /// Sets the file's length (trailing zeros are a hole).
  func finish() throws(MemoryImageError) {
    guard ftruncate(fd, off_t(size)) == 0 else {
      throw .io(.io(path: source, message: "cannot size \(path): \(StreamDecompressor.errnoText())"))
    }
  }
}
