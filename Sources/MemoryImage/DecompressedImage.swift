// An image read from a compressed file: the decompressed temporary file's reader, presented under
// the compressed file's path (its name in reports and errors), with the format `raw+xz`-style.

import BinaryReading

/// Physical memory decompressed from an xz or gzip file.
public final class DecompressedImage: PhysicalMemory {
  /// The reader of the decompressed content (raw, crash dump, ELF core, LiME).
  public let inner: any PhysicalMemory
  public let path: String
  public let compression: CompressionFormat
  public let fileSize: UInt64

  init(inner: any PhysicalMemory, path: String, compression: CompressionFormat, fileSize: UInt64) {
    self.inner = inner
    self.path = path
    self.compression = compression
    self.fileSize = fileSize
  }

  public var formatName: String { "\(inner.formatName)+\(compression.rawValue)" }
  public var ranges: [PhysicalRange] { inner.ranges }
  public var cpuState: CPUState? { inner.cpuState }
  public var statedPagingMode: PagingMode? { inner.statedPagingMode }
  public var statedDirectoryTableBase: UInt64? { inner.statedDirectoryTableBase }
  public var crashDumpHeader: CrashDumpHeader? { inner.crashDumpHeader }
  public var fileRuns: FileRuns? { inner.fileRuns }

  public func read(at address: UInt64, count: Int) throws(MemoryImageError) -> [UInt8] {
    do { return try inner.read(at: address, count: count) } catch { throw renamed(error) }
  }

  public func readUInt64(at address: UInt64) throws(MemoryImageError) -> UInt64 {
    do { return try inner.readUInt64(at: address) } catch { throw renamed(error) }
  }

  public func readUInt32(at address: UInt64) throws(MemoryImageError) -> UInt32 {
    do { return try inner.readUInt32(at: address) } catch { throw renamed(error) }
  }

  /// An unbacked read names the compressed file, not the temporary one.
  private func renamed(_ error: MemoryImageError) -> MemoryImageError {
    if case .notBacked(_, let address, let count) = error {
      return .notBacked(path: path, address: address, count: count)
    }
    return error
  }
}
