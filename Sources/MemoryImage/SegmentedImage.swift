// Physical memory stored in a file as segments (ELF cores, LiME, crash dumps, VMware .vmem with
// a region table): reads may span segments; an address outside every segment is `.notBacked`.

import BinaryReading

/// An image whose physical memory lies in the file as a list of segments.
public final class SegmentedImage: PhysicalMemory {
  public let file: MappedFile
  public let formatName: String
  public var path: String { file.path }
  public var fileSize: UInt64 { file.size }
  public let ranges: [PhysicalRange]
  public let cpuState: CPUState?
  public let statedPagingMode: PagingMode?
  public let statedDirectoryTableBase: UInt64?
  public let crashDumpHeader: CrashDumpHeader?
  let map: SegmentMap

  init(
    file: MappedFile, formatName: String, map: SegmentMap, cpuState: CPUState? = nil,
    statedPagingMode: PagingMode? = nil, statedDirectoryTableBase: UInt64? = nil,
    crashDumpHeader: CrashDumpHeader? = nil
  ) {
    self.file = file
    self.formatName = formatName
    self.map = map
    self.ranges = map.ranges
    self.cpuState = cpuState
    self.statedPagingMode = statedPagingMode
    self.statedDirectoryTableBase = statedDirectoryTableBase
    self.crashDumpHeader = crashDumpHeader
  }

  /// Number of file segments (after merging contiguous ones).
  public var segmentCount: Int { map.count }

  public func read(at address: UInt64, count: Int) throws(MemoryImageError) -> [UInt8] {
    guard count > 0 else {
      if count == 0 { return [] }
      throw .notBacked(path: path, address: address, count: count)
    }
    guard let first = map.index(containing: address) else {
      throw .notBacked(path: path, address: address, count: count)
    }
    // Pass 1: the whole span must be backed (before anything is allocated). Each step consumes at
    // least one byte of a distinct segment, so it ends after at most `map.count` steps.
    var i = first
    var current = address
    var remaining = UInt64(count)
    while remaining > 0 {
      guard i < map.count, map.starts[i] <= current, current < map.ends[i] else {
        throw .notBacked(path: path, address: address, count: count)
      }
      let take = min(remaining, map.ends[i] &- current)  // current < end
      remaining &-= take  // take ≤ remaining
      current &+= take  // current + take ≤ end
      i &+= 1
    }
    // Pass 2: copy the pieces.
    var copied = true
    let result = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
      var at = address
      var done = 0
      var j = first
      while done < count, let base = buffer.baseAddress {
        let take = Int(min(UInt64(count &- done), map.ends[j] &- at))  // checked in pass 1
        let offset = map.fileOffsets[j] &+ (at &- map.starts[j])  // inside the validated segment
        guard (try? file.copy(at: offset, count: take, into: UnsafeMutableRawPointer(base + done))) != nil else {
          copied = false
          break
        }
        done &+= take
        at &+= UInt64(take)
        j &+= 1
      }
      initialized = copied ? count : 0
    }
    guard copied, result.count == count else { throw .notBacked(path: path, address: address, count: count) }
    return result
  }

  @inline(__always)
  private func fastOffset(_ address: UInt64, _ size: UInt64) -> UInt64? {
    guard let i = map.index(containing: address) else { return nil }
    // address < end, so end - address cannot underflow.
    guard map.ends[i] &- address >= size else { return nil }
    return map.fileOffsets[i] &+ (address &- map.starts[i])  // inside the validated segment
  }

  public func readUInt64(at address: UInt64) throws(MemoryImageError) -> UInt64 {
    if let offset = fastOffset(address, 8), let v = try? file.loadLE(UInt64.self, at: offset) { return v }
    let bytes = try read(at: address, count: 8)
    return bytes.reversed().reduce(0) { $0 << 8 | UInt64($1) }
  }

  public func readUInt32(at address: UInt64) throws(MemoryImageError) -> UInt32 {
    if let offset = fastOffset(address, 4), let v = try? file.loadLE(UInt32.self, at: offset) { return v }
    let bytes = try read(at: address, count: 4)
    return bytes.reversed().reduce(0) { $0 << 8 | UInt32($1) }
  }
}
