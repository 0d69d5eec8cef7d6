// The interface every image format presents to the layers above: physical memory and the facts
// the file itself states about the machine (CPU registers, crash-dump header).

import BinaryReading

/// A backed run of physical memory: `[start, start + length)`.
public struct PhysicalRange: Sendable, Hashable, CustomStringConvertible {
  public let start: UInt64
  public let length: UInt64
  public init(start: UInt64, length: UInt64) {
    self.start = start
    self.length = length
  }
  /// One past the last address (saturating; ranges are validated when an image is opened).
  public var end: UInt64 { start.addingReportingOverflow(length).overflow ? UInt64.max : start + length }
  public func contains(_ address: UInt64) -> Bool { address >= start && address - start < length }
  public var description: String { "[\(Hex.format(start)), \(Hex.format(end)))" }
}

/// The paging mode a CPU was in: how virtual addresses translate.
public enum PagingMode: String, Sendable, CaseIterable, Codable {
  case x86 = "x86"
  case x86PAE = "x86-pae"
  case x64FourLevel = "x64-4level"
  case x64FiveLevel = "x64-5level"

  /// Pointer size of the kernel that uses this mode.
  public var pointerSize: Int { self == .x86 || self == .x86PAE ? 4 : 8 }
  /// `x64` or `x86`.
  public var architecture: String { pointerSize == 8 ? "x64" : "x86" }
}

/// Control registers as a capture recorded them (QEMU's CPU note, a crash-dump header).
public struct CPUState: Sendable, Hashable {
  public var cr0: UInt64?
  public var cr3: UInt64
  public var cr4: UInt64?
  public var efer: UInt64?
  public init(cr0: UInt64? = nil, cr3: UInt64, cr4: UInt64? = nil, efer: UInt64? = nil) {
    self.cr0 = cr0
    self.cr3 = cr3
    self.cr4 = cr4
    self.efer = efer
  }

  /// The paging mode these registers select, when CR4 (and EFER for long mode) are known.
  public var pagingMode: PagingMode? {
    guard let cr4 else { return nil }
    let pae = cr4 & (1 << 5) != 0
    let la57 = cr4 & (1 << 12) != 0
    if let efer, efer & (1 << 10) != 0 { return la57 ? .x64FiveLevel : .x64FourLevel }  // EFER.LMA
    if efer == nil, la57 { return .x64FiveLevel }
    return pae ? .x86PAE : .x86
  }

  /// CR3 with the PCID / flag bits removed: the physical address of the top-level table.
  public var tableRoot: UInt64 {
    if pagingMode == .x86PAE { return cr3 & 0xffff_ffe0 }
    return cr3 & 0x000f_ffff_ffff_f000
  }
}

/// Physical memory of one machine, read from an image file of any supported format.
public protocol PhysicalMemory: AnyObject, Sendable {
  /// Short format id: `raw`, `vmem`, `lime`, `elf-core`, `crashdump-full64`, `crashdump-bitmap64`,
  /// `crashdump-kernel64`, `crashdump-kernel-user64`, `crashdump-complete64`, `crashdump-full32`,
  /// `crashdump-bitmap32`, `crashdump-kernel32`.
  var formatName: String { get }
  /// The image file's path.
  var path: String { get }
  /// The image file's size in bytes.
  var fileSize: UInt64 { get }
  /// Backed physical ranges, sorted and non-overlapping.
  var ranges: [PhysicalRange] { get }
  /// Registers stated by the file, if any.
  var cpuState: CPUState? { get }
  /// Paging mode stated by the file (crash-dump header, ELF CPU note), if any.
  var statedPagingMode: PagingMode? { get }
  /// Directory table base stated by the file (crash-dump header, ELF CPU note), if any.
  var statedDirectoryTableBase: UInt64? { get }
  /// The Windows crash-dump header, on crash-dump images.
  var crashDumpHeader: CrashDumpHeader? { get }
  /// Where the backed memory lies in a mapped image file (holes and metadata left out), for
  /// scanners that read it in place; nil when the memory is not a mapped file.
  var fileRuns: FileRuns? { get }

  /// Exactly `count` bytes of physical memory at `address`; fails if any byte is not backed.
  func read(at address: UInt64, count: Int) throws(MemoryImageError) -> [UInt8]
  /// A little-endian 64-bit load (page-table entries; the hot path).
  func readUInt64(at address: UInt64) throws(MemoryImageError) -> UInt64
  /// A little-endian 32-bit load.
  func readUInt32(at address: UInt64) throws(MemoryImageError) -> UInt32
}

extension PhysicalMemory {
  public var cpuState: CPUState? { nil }
  public var crashDumpHeader: CrashDumpHeader? { nil }
  public var fileRuns: FileRuns? { nil }
  public var statedPagingMode: PagingMode? { cpuState?.pagingMode }
  public var statedDirectoryTableBase: UInt64? { cpuState.map(\.tableRoot) }

  public func readUInt64(at address: UInt64) throws(MemoryImageError) -> UInt64 {
    let bytes = try read(at: address, count: 8)
    do { return try ByteCursor(bytes).getLE(UInt64.self, at: 0) } catch { throw .io(error) }
  }
  public func readUInt32(at address: UInt64) throws(MemoryImageError) -> UInt32 {
    let bytes = try read(at: address, count: 4)
    do { return try ByteCursor(bytes).getLE(UInt32.self, at: 0) } catch { throw .io(error) }
  }

  /// Total backed bytes.
  public var backedBytes: UInt64 { ranges.reduce(0) { $0 &+ $1.length } }
  /// One past the highest backed address.
  public var highestAddress: UInt64 { ranges.last?.end ?? 0 }
  /// Whether `address` is backed.
  public func isBacked(_ address: UInt64) -> Bool {
    var lo = 0
    var hi = ranges.count
    while lo < hi {
      let mid = (lo + hi) / 2
      if ranges[mid].end <= address { lo = mid + 1 } else { hi = mid }
    }
    return lo < ranges.count && ranges[lo].contains(address)
  }
}
