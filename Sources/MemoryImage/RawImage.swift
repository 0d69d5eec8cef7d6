// Raw physical memory (`dd`, pmemsave, VMware .vmem): file offset = physical address.

import BinaryReading

/// A raw image: every byte of the file is the physical byte at the same address.
public final class RawImage: PhysicalMemory {
  public let file: MappedFile
  public let formatName: String
  public var path: String { file.path }
  public var fileSize: UInt64 { file.size }
  public let ranges: [PhysicalRange]

  /// Opens `file` as raw memory; `formatName` distinguishes `raw` from `vmem`.
  public init(file: MappedFile, formatName: String = "raw") {
    self.file = file
    self.formatName = formatName
    self.ranges = file.size == 0 ? [] : [PhysicalRange(start: 0, length: file.size)]
  }

  public func read(at address: UInt64, count: Int) throws(MemoryImageError) -> [UInt8] {
    do { return try file.readBytes(at: address, count: count) } catch {
      throw .notBacked(path: path, address: address, count: count)
    }
  }

  public func readUInt64(at address: UInt64) throws(MemoryImageError) -> UInt64 {
    guard let value = try? file.loadLE(UInt64.self, at: address) else {
      throw .notBacked(path: path, address: address, count: 8)
    }
    return value
  }

  public func readUInt32(at address: UInt64) throws(MemoryImageError) -> UInt32 {
    guard let value = try? file.loadLE(UInt32.self, at: address) else {
      throw .notBacked(path: path, address: address, count: 4)
    }
    return value
  }
}
