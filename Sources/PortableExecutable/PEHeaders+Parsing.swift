// Parsing of the PE headers from their bytes. Offsets are those of the Microsoft "PE Format"
// document: IMAGE_DOS_HEADER.e_lfanew at 0x3C; COFF file header fields at 0/2/4/8/12/16/18;
// optional header standard + Windows-specific fields (PE32 and PE32+ columns of the tables);
// section header fields at 0/8/12/16/20/24/28/32/34/36.

extension PEDOSHeader {
  /// Size of IMAGE_DOS_HEADER.
  static let size = 64

  init(parsing b: PEBytes) throws(PEError) {
    let magic = try b.u16(0)
    guard magic == 0x5A4D else {  // "MZ"
      throw .badSignature(
        source: b.source, offset: b.origin, structure: b.structure, expected: "\"MZ\" (0x5a4d)",
        found: "0x" + String(magic, radix: 16))
    }
    self.init(magic: magic, newHeaderOffset: try b.u32(0x3C))
  }
}

extension COFFFileHeader {
  /// Size of IMAGE_FILE_HEADER.
  static let size = 20
  /// "the Windows loader limits the number of sections to 96" (PE Format, COFF File Header).
  static let maximumSections: UInt16 = 96

  init(parsing b: PEBytes) throws(PEError) {
    self.init(
      machine: try b.u16(0), numberOfSections: try b.u16(2), timeDateStamp: try b.u32(4),
      pointerToSymbolTable: try b.u32(8), numberOfSymbols: try b.u32(12), sizeOfOptionalHeader: try b.u16(16),
      characteristics: try b.u16(18))
    guard numberOfSections <= Self.maximumSections else {
      throw b.corrupt(2, "NumberOfSections is \(numberOfSections); the loader accepts at most \(Self.maximumSections)")
    }
  }
}

extension PEOptionalHeader {
  /// Bytes before the data directories: 96 (PE32) or 112 (PE32+).
  static func fixedSize(_ magic: PEOptionalHeaderMagic) -> Int { magic == .pe32 ? 96 : 112 }
  /// Larger optional headers cannot fit the first page with the other headers; no linker writes one.
  static let maximumSize = 0x1000
  /// The spec defines 16 directories; loaders ignore any beyond.
  static let maximumDirectories = 16

  init(parsing b: PEBytes) throws(PEError) {
    let rawMagic = try b.u16(0)
    guard let magic = PEOptionalHeaderMagic(rawValue: rawMagic) else {
      if rawMagic == 0x0107 {
        throw .unsupported(
          source: b.source, offset: b.origin, structure: b.structure, detail: "ROM image (magic 0x107)")
      }
      throw .badSignature(
        source: b.source, offset: b.origin, structure: b.structure, expected: "0x10b (PE32) or 0x20b (PE32+)",
        found: "0x" + String(rawMagic, radix: 16))
    }
    let fixed = Self.fixedSize(magic)
    guard b.count >= fixed else {
      throw b.corrupt(0, "SizeOfOptionalHeader \(b.count) is smaller than the \(fixed) bytes a \(magic) header needs")
    }
    let is64 = magic == .pe32Plus
    // PE32 has BaseOfData at 24 and a 32-bit ImageBase at 28; PE32+ has a 64-bit ImageBase at 24.
    let imageBase = is64 ? try b.u64(24) : UInt64(try b.u32(28))
    func sizeField(_ index: Int) throws(PEError) -> UInt64 {
      // The four stack/heap sizes start at 72: 4 bytes each in PE32, 8 in PE32+.
      is64 ? try b.u64(72 &+ 8 &* index) : UInt64(try b.u32(72 &+ 4 &* index))  // index < 4
    }
    let rvaCountOffset = is64 ? 108 : 92
    let declared = try b.u32(rvaCountOffset)
    // Loaders read at most 16 directories and none past the header's end: clip to both (as the
    // Windows loader and pefile do) rather than fail the whole image on a stray count.
    let room = (b.count &- fixed) / 8  // b.count ≥ fixed checked above
    let kept = min(Int(min(declared, UInt32(Self.maximumDirectories))), room)
    var directories: [PEDataDirectory] = []
    for i in 0..<kept {
      let at = fixed &+ 8 &* i  // i < 16
      directories.append(PEDataDirectory(rva: try b.u32(at), size: try b.u32(at &+ 4)))
    }
    self.init(
      magic: magic, majorLinkerVersion: try b.u8(2), minorLinkerVersion: try b.u8(3), sizeOfCode: try b.u32(4),
      addressOfEntryPoint: try b.u32(16), baseOfCode: try b.u32(20), imageBase: imageBase,
      sectionAlignment: try b.u32(32), fileAlignment: try b.u32(36), majorOperatingSystemVersion: try b.u16(40),
      minorOperatingSystemVersion: try b.u16(42), majorImageVersion: try b.u16(44), minorImageVersion: try b.u16(46),
      majorSubsystemVersion: try b.u16(48), minorSubsystemVersion: try b.u16(50), sizeOfImage: try b.u32(56),
      sizeOfHeaders: try b.u32(60), checkSum: try b.u32(64), subsystem: try b.u16(68),
      dllCharacteristics: try b.u16(70), sizeOfStackReserve: try sizeField(0), sizeOfStackCommit: try sizeField(1),
      sizeOfHeapReserve: try sizeField(2), sizeOfHeapCommit: try sizeField(3), numberOfRvaAndSizes: declared,
      dataDirectories: directories)
    guard sizeOfImage != 0 else { throw b.corrupt(56, "SizeOfImage is 0") }
  }
}

extension PESection {
  /// Size of IMAGE_SECTION_HEADER.
  static let size = 40

  /// Parses the header at `at`; `longName` is the string-table name if the Name field is `/n`.
  init(parsing b: PEBytes, at: Int, longName: (Int) -> String?) throws(PEError) {
    // `at` is i × 40 with i < 96 (our own index), so `at &+ 36` cannot overflow.
    let raw = try b.slice(at, 8)
    let short = raw.prefix { $0 != 0 }
    var name = peText(Array(short))
    if short.first == UInt8(ascii: "/"), let index = Int(peText(Array(short.dropFirst()))), let long = longName(index) {
      name = long
    }
    self.init(
      name: name, rawName: raw, virtualSize: try b.u32(at &+ 8), virtualAddress: try b.u32(at &+ 12),
      sizeOfRawData: try b.u32(at &+ 16), pointerToRawData: try b.u32(at &+ 20),
      pointerToRelocations: try b.u32(at &+ 24), pointerToLinenumbers: try b.u32(at &+ 28),
      numberOfRelocations: try b.u16(at &+ 32), numberOfLinenumbers: try b.u16(at &+ 34),
      characteristics: try b.u32(at &+ 36))
  }
}
