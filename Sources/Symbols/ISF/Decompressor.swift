// Whole-file decompression of symbol files: xz (liblzma stream decoder), gzip/zlib (zlib inflate)
// and raw deflate blocks (for MSZIP cabinets), always with a cap on the output size.
// Formats: the .xz file format (tukaani.org/xz/xz-file-format.txt), RFC 1950/1951/1952.

import BinaryReading
import CLZMA
import CZlib

/// Bounded decompression into memory.
public enum Decompressor {
  /// The default cap on decompressed output: 1 GiB.
  public static let defaultLimit = 1 << 30

  /// The content of `path`, decompressed according to its extension (`.xz`, `.gz`, otherwise as is).
  public static func contents(ofFile path: String, limit: Int = defaultLimit) throws(SymbolsError) -> [UInt8] {
    let file: MappedFile
    do { file = try MappedFile(path: path) } catch { throw .read(error) }
    guard let size = Int(exactly: file.size) else { throw .tooLarge(file: path, what: "file", limit: UInt64(limit)) }
    let lower = path.lowercased()
    do {
      return try file.withBytes(at: 0, count: size) { (bytes: UnsafeRawBufferPointer) throws -> [UInt8] in
        if lower.hasSuffix(".xz") { return try xz(bytes, name: path, limit: limit) }
        if lower.hasSuffix(".gz") { return try gzip(bytes, name: path, limit: limit) }
        guard bytes.count <= limit else { throw SymbolsError.tooLarge(file: path, what: "file", limit: UInt64(limit)) }
        return [UInt8](bytes)
      }
    } catch let e as SymbolsError {
      throw e
    } catch let e as BinaryReadError {
      throw .read(e)
    } catch {
      throw .io(path: path, message: "\(error)")
    }
  }

  /// Decodes a complete .xz stream (concatenated streams allowed) of at most `limit` output bytes.
  public static func xz(_ input: UnsafeRawBufferPointer, name: String, limit: Int = defaultLimit) throws(SymbolsError)
    -> [UInt8]
  {
    var stream = lzma_stream()
    // 512 MiB of decoder memory covers every preset (dictionaries up to 64 MiB need ~70 MiB).
    guard
      lzma_stream_decoder(
        &stream, 512 << 20, 0x08 /* LZMA_CONCATENATED (lzma/container.h; a macro Swift does not import) */) == LZMA_OK
    else {
      throw .corruptCompressed(file: name, format: "xz", message: "cannot initialise the decoder")
    }
    defer { lzma_end(&stream) }
    var out = [UInt8](repeating: 0, count: min(max(input.count * 8, 1 << 16), limit))
    var produced = 0
    stream.next_in = input.baseAddress?.assumingMemoryBound(to: UInt8.self)
    stream.avail_in = input.count
    var action = LZMA_RUN
    while true {
      if produced == out.count {
        guard out.count < limit else { throw .tooLarge(file: name, what: "decompressed xz data", limit: UInt64(limit)) }
        out.append(contentsOf: repeatElement(0, count: min(out.count, limit - out.count)))
      }
      if stream.avail_in == 0 { action = LZMA_FINISH }
      let ret: lzma_ret = out.withUnsafeMutableBufferPointer { buf in
        // produced < buf.count holds here, so the pointer arithmetic stays inside the buffer.
        stream.next_out = buf.baseAddress.map { $0 + produced }
        stream.avail_out = buf.count - produced
        let r = lzma_code(&stream, action)
        produced = buf.count - stream.avail_out
        return r
      }
      if ret == LZMA_STREAM_END { break }
      guard ret == LZMA_OK || ret == LZMA_BUF_ERROR && stream.avail_out == 0 else {
        throw .corruptCompressed(file: name, format: "xz", message: lzmaMessage(ret, at: input.count - stream.avail_in))
      }
    }
    out.removeSubrange(produced...)
    return out
  }

  private static func lzmaMessage(_ ret: lzma_ret, at offset: Int) -> String {
    let what: String
    switch ret {
    case LZMA_FORMAT_ERROR: what = "not an xz stream (bad magic)"
    case LZMA_DATA_ERROR: what = "compressed data is corrupt"
    case LZMA_BUF_ERROR: what = "input ends before the end of the stream (truncated)"
    case LZMA_MEMLIMIT_ERROR: what = "needs more decoder memory than the 512 MiB allowed"
    case LZMA_OPTIONS_ERROR: what = "unsupported xz options"
    case LZMA_UNSUPPORTED_CHECK: what = "unsupported integrity check"
    default: what = "decoder error \(ret.rawValue)"
    }
    return "\(what) (near input byte \(Hex.format(UInt64(max(offset, 0)))))"
  }

  /// Decodes gzip (or zlib) data of at most `limit` output bytes.
  public static func gzip(_ input: UnsafeRawBufferPointer, name: String, limit: Int = defaultLimit)
    throws(SymbolsError) -> [UInt8]
  {
    // windowBits 15 + 32: detect the zlib or gzip header automatically (zlib.h).
    try inflate(input, windowBits: 15 + 32, dictionary: [], name: name, format: "gzip", limit: limit)
  }

  /// Decodes one raw deflate stream (RFC 1951), optionally primed with a preset `dictionary`.
  public static func rawInflate(_ input: UnsafeRawBufferPointer, dictionary: [UInt8], name: String, limit: Int)
    throws(SymbolsError) -> [UInt8]
  {
    try inflate(input, windowBits: -15, dictionary: dictionary, name: name, format: "deflate", limit: limit)
  }

  private static func inflate(
    _ input: UnsafeRawBufferPointer, windowBits: Int32, dictionary: [UInt8], name: String, format: String, limit: Int
  ) throws(SymbolsError) -> [UInt8] {
    var stream = z_stream()
    guard inflateInit2_(&stream, windowBits, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
      throw .corruptCompressed(file: name, format: format, message: "cannot initialise zlib")
    }
    defer { inflateEnd(&stream) }
    if !dictionary.isEmpty {
      let r = dictionary.withUnsafeBufferPointer { d in
        inflateSetDictionary(&stream, d.baseAddress, UInt32(clamping: d.count))
      }
      guard r == Z_OK else { throw .corruptCompressed(file: name, format: format, message: "cannot set dictionary") }
    }
    guard input.count <= Int(UInt32.max) else { throw .tooLarge(file: name, what: "compressed input", limit: 1 << 32) }
    var out = [UInt8](repeating: 0, count: min(max(input.count * 4, 1 << 15), limit))
    var produced = 0
    stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: UInt8.self))
    stream.avail_in = UInt32(input.count)
    while true {
      if produced == out.count {
        guard out.count < limit else {
          throw .tooLarge(file: name, what: "decompressed \(format) data", limit: UInt64(limit))
        }
        out.append(contentsOf: repeatElement(0, count: min(out.count, limit - out.count)))
      }
      let before = (stream.avail_in, produced)
      let ret: Int32 = out.withUnsafeMutableBufferPointer { buf in
        // produced < buf.count, and the chunk is capped to UInt32.
        let chunk = min(buf.count - produced, Int(UInt32.max))
        stream.next_out = buf.baseAddress.map { $0 + produced }
        stream.avail_out = UInt32(chunk)
        let r = CZlib.inflate(&stream, Z_NO_FLUSH)
        produced += chunk - Int(stream.avail_out)
        return r
      }
      if ret == Z_STREAM_END { break }
      let at = Hex.format(UInt64(input.count) - UInt64(stream.avail_in))
      switch ret {
      case Z_OK: continue
      case Z_BUF_ERROR:
        // No progress possible: either the output is full (grow) or the input ended early.
        if produced == out.count { continue }
        if before == (stream.avail_in, produced) || stream.avail_in == 0 {
          throw .corruptCompressed(
            file: name, format: format, message: "input ends before the end of the stream (at \(at))")
        }
      case Z_NEED_DICT:
        throw .corruptCompressed(file: name, format: format, message: "stream needs a preset dictionary (at \(at))")
      default:
        let msg = stream.msg.map { String(cString: $0) } ?? "error \(ret)"
        throw .corruptCompressed(file: name, format: format, message: "\(msg) (at \(at))")
      }
    }
    out.removeSubrange(produced...)
    return out
  }
}
