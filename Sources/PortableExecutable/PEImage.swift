// A PE image read through a ByteSource, either as a file on disk or as mapped in memory (a module
// in a memory image). Construction reads only the headers and the section table; each directory
// (exports, debug, resources, exception data) is read on demand and fails on its own, so a page
// missing from a memory image costs only the parts that live on it.

import BinaryReading

/// How the image's bytes are laid out in the source.
public enum PELayout: Sendable {
  /// A file on disk: RVAs are translated through the section table's raw-data offsets.
  case file
  /// An image as the loader mapped it: source offset = RVA.
  case mapped
}

/// A PE/COFF image (PE32 or PE32+): headers, sections and readers for its directories.
public struct PEImage: Sendable {
  /// Where the bytes come from.
  public let source: any ByteSource
  /// File or mapped layout.
  public let layout: PELayout
  /// The MS-DOS header.
  public let dosHeader: PEDOSHeader
  /// The COFF file header.
  public let fileHeader: COFFFileHeader
  /// The optional header (PE32 or PE32+).
  public let optionalHeader: PEOptionalHeader
  /// The section headers in table order.
  public let sections: [PESection]

  /// Whether this is a PE32+ (64-bit) image.
  public var is64Bit: Bool { optionalHeader.magic == .pe32Plus }
  /// The source's name, for messages.
  public var sourceName: String { source.sourceName }

  /// Reads the DOS header, the NT headers and the section table, nothing else.
  public init(source: any ByteSource, layout: PELayout) throws(PEError) {
    let dos = try PEDOSHeader(
      parsing: Self.fetch(source, offset: 0, count: PEDOSHeader.size, structure: "DOS header"))
    let ntOffset = UInt64(dos.newHeaderOffset)
    let nt = try Self.fetch(
      source, offset: ntOffset, count: 4 + COFFFileHeader.size, structure: "NT headers (e_lfanew)")
    let signature = try nt.u32(0)
    guard signature == 0x0000_4550 else {  // "PE\0\0"
      throw .badSignature(
        source: source.sourceName, offset: ntOffset, structure: "NT headers", expected: "\"PE\\0\\0\" (0x00004550)",
        found: "0x" + String(signature, radix: 16))
    }
    let fileHeader = try COFFFileHeader(
      parsing: PEBytes(
        try nt.slice(4, COFFFileHeader.size), origin: ntOffset + 4, source: source.sourceName,  // ntOffset < 2^32
        structure: "COFF file header"))
    let optionalOffset = ntOffset + 24  // ntOffset < 2^32
    let optionalSize = Int(fileHeader.sizeOfOptionalHeader)
    guard optionalSize >= 2, optionalSize <= PEOptionalHeader.maximumSize else {
      throw .corrupt(
        source: source.sourceName, offset: ntOffset + 20, structure: "COFF file header",
        detail: "SizeOfOptionalHeader \(optionalSize) is not a plausible optional-header size "
          + "(expected 96…\(PEOptionalHeader.maximumSize))")
    }
    let optionalHeader = try PEOptionalHeader(
      parsing: Self.fetch(source, offset: optionalOffset, count: optionalSize, structure: "optional header"))
    let tableOffset = optionalOffset + UInt64(optionalSize)  // both small
    let count = Int(fileHeader.numberOfSections)  // ≤ 96, checked by the parser
    let table = try Self.fetch(
      source, offset: tableOffset, count: count * PESection.size, structure: "section table")
    let stringTable = Self.stringTableOffset(fileHeader, layout: layout, sourceSize: source.size)
    var sections: [PESection] = []
    for i in 0..<count {
      sections.append(
        try PESection(parsing: table, at: i * PESection.size) { index in  // i < 96
          Self.longSectionName(source, stringTable: stringTable, index: index)
        })
    }
    self.source = source
    self.layout = layout
    self.dosHeader = dos
    self.fileHeader = fileHeader
    self.optionalHeader = optionalHeader
    self.sections = sections
  }

  /// Maps the file at `path` (never read whole) and reads its headers in the file layout.
  public static func open(path: String) throws(PEError) -> PEImage {
    let file: MappedFile
    do { file = try MappedFile(path: path) } catch {
      throw .unavailable(source: path, offset: 0, count: 0, structure: "file", reason: "\(error)")
    }
    return try PEImage(source: file, layout: .file)
  }

  /// Reads `count` bytes at source offset `offset` for `structure`, mapping the source's failures:
  /// a range past the end is `.truncated`, any other failure (a missing page) is `.unavailable`.
  static func fetch(
    _ source: any ByteSource, offset: UInt64, count: Int, structure: String
  ) throws(PEError) -> PEBytes {
    let name = source.sourceName
    guard count >= 0 else {
      throw .corrupt(source: name, offset: offset, structure: structure, detail: "negative length \(count)")
    }
    let (end, overflow) = offset.addingReportingOverflow(UInt64(count))
    guard !overflow, end <= source.size else {
      throw .truncated(source: name, offset: offset, count: UInt64(count), size: source.size, structure: structure)
    }
    do {
      let bytes = try source.read(at: offset, count: count)
      guard bytes.count == count else {
        throw PEError.unavailable(
          source: name, offset: offset, count: UInt64(count), structure: structure,
          reason: "the source returned \(bytes.count) byte(s)")
      }
      return PEBytes(bytes, origin: offset, source: name, structure: structure)
    } catch let error as PEError {
      throw error
    } catch BinaryReadError.outOfBounds(_, _, _, let size) {
      throw .truncated(source: name, offset: offset, count: UInt64(count), size: size, structure: structure)
    } catch {
      throw .unavailable(
        source: name, offset: offset, count: UInt64(count), structure: structure, reason: "\(error)")
    }
  }

  /// File offset of the COFF string table (after the symbol table), when the file layout has one.
  private static func stringTableOffset(_ header: COFFFileHeader, layout: PELayout, sourceSize: UInt64) -> UInt64? {
    guard layout == .file, header.pointerToSymbolTable != 0 else { return nil }
    // Symbol-table entries are 18 bytes ("COFF Symbol Table"); the string table follows them.
    let offset = UInt64(header.pointerToSymbolTable) + UInt64(header.numberOfSymbols) * 18  // < 2^37
    return offset < sourceSize ? offset : nil
  }

  /// The long section name at `index` in the COFF string table, or nil if it cannot be read.
  private static func longSectionName(_ source: any ByteSource, stringTable: UInt64?, index: Int) -> String? {
    guard let stringTable, index >= 4, index < 0x1000_0000 else { return nil }  // 4: the table's size field
    let offset = stringTable + UInt64(index)  // both bounded above
    guard offset < source.size else { return nil }
    let count = Int(min(256, source.size - offset))  // offset < size
    guard let bytes = try? fetch(source, offset: offset, count: count, structure: "COFF string table"),
      let name = bytes.cString(0, limit: 255)
    else { return nil }
    return peText(name)
  }
}
