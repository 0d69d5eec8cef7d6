// The debug directory (PE Format, "Debug Directory (Image Only)"): an array of 28-byte
// IMAGE_DEBUG_DIRECTORY entries — Characteristics 0, TimeDateStamp 4, MajorVersion 8, MinorVersion 10,
// Type 12, SizeOfData 16, AddressOfRawData 20, PointerToRawData 24.

import BinaryReading

/// One debug directory entry.
public struct PEDebugEntry: Sendable, Equatable {
  /// Reserved, normally 0.
  public let characteristics: UInt32
  /// When the debug data was created.
  public let timeDateStamp: UInt32
  /// Format version.
  public let majorVersion: UInt16
  /// Format version.
  public let minorVersion: UInt16
  /// IMAGE_DEBUG_TYPE_* (2 CodeView, 12 VC feature, 13 POGO, 16 repro, 20 ex-DLL characteristics …).
  public let type: UInt32
  /// Size of the debug data.
  public let sizeOfData: UInt32
  /// RVA of the debug data when it is mapped (0 if it is not loaded).
  public let addressOfRawData: UInt32
  /// File offset of the debug data.
  public let pointerToRawData: UInt32
}

/// Debug types of the PE Format document ("Debug Type").
public enum PEDebugType {
  /// IMAGE_DEBUG_TYPE_CODEVIEW: a PDB reference (RSDS or NB10 record).
  public static let codeView: UInt32 = 2
  /// IMAGE_DEBUG_TYPE_MISC.
  public static let misc: UInt32 = 4
  /// IMAGE_DEBUG_TYPE_POGO.
  public static let pogo: UInt32 = 13
  /// IMAGE_DEBUG_TYPE_REPRO: the timestamps are hashes.
  public static let repro: UInt32 = 16
}

extension PEImage {
  /// Size of IMAGE_DEBUG_DIRECTORY.
  static let debugEntrySize = 28
  /// No linker writes more than a handful; a larger count means the size field is garbage.
  static let maximumDebugEntries = 256

  /// The debug directory entries, or an empty array if there is none.
  public func debugDirectory() throws(PEError) -> [PEDebugEntry] {
    guard let dir = optionalHeader.directory(.debug), dir.isPresent else { return [] }
    let structure = "debug directory"
    guard Int(dir.size) % Self.debugEntrySize == 0 else {
      throw .corrupt(
        source: sourceName, offset: UInt64(dir.rva), structure: structure,
        detail: "size \(dir.size) is not a multiple of the \(Self.debugEntrySize)-byte entry")
    }
    let count = Int(dir.size) / Self.debugEntrySize
    guard count <= Self.maximumDebugEntries else {
      throw .corrupt(
        source: sourceName, offset: UInt64(dir.rva), structure: structure,
        detail: "\(count) entries (at most \(Self.maximumDebugEntries) expected)")
    }
    let b = try read(rva: dir.rva, count: Int(dir.size), structure: structure)
    var entries: [PEDebugEntry] = []
    for i in 0..<count {
      let at = i * Self.debugEntrySize  // i < 256
      entries.append(
        PEDebugEntry(
          characteristics: try b.u32(at), timeDateStamp: try b.u32(at + 4), majorVersion: try b.u16(at + 8),
          minorVersion: try b.u16(at + 10), type: try b.u32(at + 12), sizeOfData: try b.u32(at + 16),
          addressOfRawData: try b.u32(at + 20), pointerToRawData: try b.u32(at + 24)))
    }
    return entries
  }

  /// The data of a debug entry: through its RVA when mapped, else (file layout) its file offset.
  func debugData(_ entry: PEDebugEntry, limit: Int, structure: String) throws(PEError) -> PEBytes {
    let count = Int(entry.sizeOfData)
    guard count <= limit else {
      throw .corrupt(
        source: sourceName, offset: UInt64(entry.addressOfRawData), structure: structure,
        detail: "SizeOfData \(count) exceeds \(limit)")
    }
    if entry.addressOfRawData != 0 {
      return try read(rva: entry.addressOfRawData, count: count, structure: structure)
    }
    guard layout == .file, entry.pointerToRawData != 0 else {
      throw .unsupported(
        source: sourceName, offset: 0, structure: structure,
        detail: "debug data is not mapped (AddressOfRawData 0) and the source is a mapped image")
    }
    return try Self.fetch(source, offset: UInt64(entry.pointerToRawData), count: count, structure: structure)
  }
}
