// The resource tree (PE Format, "The .rsrc Section"): Resource Directory Tables (16 bytes:
// NumberOfNameEntries at 12, NumberOfIDEntries at 14) each followed by 8-byte entries (name offset or
// integer ID; data-entry or subdirectory offset, high bit set for a subdirectory, offsets relative
// to the start of the resource directory), and 16-byte Resource Data Entries (Data RVA, Size,
// Codepage, Reserved). Three levels: type, name, language. The walk refuses loops and deeper trees.

import BinaryReading

/// One resource: its name ID and language under a type, and where its data is.
public struct PEResource: Sendable, Equatable {
  /// The integer name (second level), or nil for a resource named by a string.
  public let nameID: UInt32?
  /// The language ID (third level), or nil if given by a string.
  public let languageID: UInt32?
  /// RVA of the resource data.
  public let dataRVA: UInt32
  /// Size of the resource data.
  public let size: UInt32
  /// Code page of the data (often 0).
  public let codePage: UInt32

  /// Builds a resource reference from its parts.
  public init(nameID: UInt32?, languageID: UInt32?, dataRVA: UInt32, size: UInt32, codePage: UInt32) {
    self.nameID = nameID
    self.languageID = languageID
    self.dataRVA = dataRVA
    self.size = size
    self.codePage = codePage
  }
}

/// Well-known resource type IDs (`RT_*`).
public enum PEResourceType {
  /// RT_VERSION: a VS_VERSIONINFO block.
  public static let version: UInt32 = 16
  /// RT_MANIFEST.
  public static let manifest: UInt32 = 24
}

extension PEImage {
  /// The tree has three levels: type, name, language.
  static let resourceLevels = 3
  /// Bound on the resources collected under one type.
  static let maximumResources = 0x1_0000

  /// Every resource of `type` (an `RT_*` ID), in tree order; empty if the image has no resources.
  public func resources(type: UInt32) throws(PEError) -> [PEResource] {
    guard let dir = optionalHeader.directory(.resource), dir.isPresent else { return [] }
    guard UInt64(dir.rva) + UInt64(dir.size) <= UInt64(optionalHeader.sizeOfImage) else {
      throw .invalidRVA(
        source: sourceName, rva: dir.rva, count: UInt64(dir.size), structure: "resource directory",
        detail: "the directory ends past SizeOfImage \(Hex.format(UInt64(optionalHeader.sizeOfImage)))")
    }
    var walk = ResourceWalk(image: self, base: dir.rva, size: dir.size)
    for entry in try walk.entries(at: 0) where entry.id == type {
      try walk.descend(entry, level: 1, nameID: nil)
    }
    return walk.found
  }
}

/// The state of one bounded walk of the resource tree.
private struct ResourceWalk {
  struct Entry {
    let id: UInt32?
    let isDirectory: Bool
    let target: UInt32
  }

  let image: PEImage
  let base: UInt32
  let size: UInt32
  var visited: Set<UInt32> = [0]
  var found: [PEResource] = []

  init(image: PEImage, base: UInt32, size: UInt32) {
    self.image = image
    self.base = base
    self.size = size
  }

  private func corrupt(_ offset: UInt32, _ detail: String) -> PEError {
    .corrupt(
      source: image.sourceName, offset: UInt64(base) + UInt64(offset), structure: "resource directory",
      detail: detail)
  }

  /// Bytes at `offset` inside the resource directory, refusing offsets outside it.
  private func bytes(at offset: UInt32, count: Int, _ what: String) throws(PEError) -> PEBytes {
    guard UInt64(offset) + UInt64(count) <= UInt64(size) else {
      throw corrupt(
        offset,
        "\(what) of \(count) bytes at offset \(Hex.format(UInt64(offset))) is outside the "
          + "\(size)-byte resource directory")
    }
    // base + size ≤ SizeOfImage < 2^32 (checked in resources(type:)), so base + offset cannot overflow.
    return try image.read(rva: base &+ offset, count: count, structure: what)
  }

  /// The entries of the directory table at `offset`.
  func entries(at offset: UInt32) throws(PEError) -> [Entry] {
    let table = try bytes(at: offset, count: 16, "resource directory table")
    let count = Int(try table.u16(12)) + Int(try table.u16(14))  // ≤ 2 × 65535
    // offset + 16 ≤ size < 2^32: the table was just read inside the directory.
    let list = try bytes(at: offset &+ 16, count: count * 8, "resource directory entries")
    var entries: [Entry] = []
    for i in 0..<count {
      let first = try list.u32(i * 8)
      let second = try list.u32(i * 8 + 4)
      entries.append(
        Entry(
          id: first & 0x8000_0000 == 0 ? first : nil, isDirectory: second & 0x8000_0000 != 0,
          target: second & 0x7FFF_FFFF))
    }
    return entries
  }

  /// Walks below `entry`, found at `level` (1 type, 2 name, 3 language).
  mutating func descend(_ entry: Entry, level: Int, nameID: UInt32?) throws(PEError) {
    guard entry.isDirectory else {
      guard level == PEImage.resourceLevels else {
        throw corrupt(entry.target, "data entry at level \(level); resources sit at level \(PEImage.resourceLevels)")
      }
      let data = try bytes(at: entry.target, count: 16, "resource data entry")
      guard found.count < PEImage.maximumResources else {
        throw corrupt(entry.target, "more than \(PEImage.maximumResources) resources")
      }
      found.append(
        PEResource(
          nameID: nameID, languageID: entry.id, dataRVA: try data.u32(0), size: try data.u32(4),
          codePage: try data.u32(8)))
      return
    }
    guard level < PEImage.resourceLevels else {
      throw corrupt(entry.target, "subdirectory below level \(PEImage.resourceLevels) (tree deeper than 3 levels)")
    }
    guard visited.insert(entry.target).inserted else {
      throw corrupt(entry.target, "directory at offset \(Hex.format(UInt64(entry.target))) is reached twice (loop)")
    }
    for child in try entries(at: entry.target) {
      try descend(child, level: level + 1, nameID: level == 1 ? child.id : nameID)
    }
  }
}
