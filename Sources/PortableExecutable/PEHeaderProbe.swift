// A cheap check of one page for a PE header (MZ, e_lfanew, PE\0\0, optional-header magic) and the
// few fields a scan needs, such as SizeOfImage. Kernel discovery calls this on many pages, so it
// reads only what it needs from bytes already in memory and never throws.
// Offsets: PE Format, "MS-DOS Stub", "COFF File Header", "Optional Header Windows-Specific Fields".

/// What a page's PE header says, enough to decide whether to parse the image.
public struct PEHeaderProbe: Sendable, Equatable {
  /// e_lfanew: offset of `PE\0\0` in the page.
  public let ntHeaderOffset: UInt32
  /// COFF Machine.
  public let machine: UInt16
  /// COFF NumberOfSections.
  public let numberOfSections: UInt16
  /// COFF TimeDateStamp.
  public let timeDateStamp: UInt32
  /// COFF Characteristics.
  public let characteristics: UInt16
  /// PE32+ (true) or PE32 (false).
  public let is64Bit: Bool
  /// Optional header SizeOfImage.
  public let sizeOfImage: UInt32
  /// Optional header SizeOfHeaders.
  public let sizeOfHeaders: UInt32
  /// Optional header CheckSum.
  public let checkSum: UInt32
  /// Optional header AddressOfEntryPoint.
  public let addressOfEntryPoint: UInt32
}

extension PEImage {
  /// Checks `bytes` (e.g. one 4 KiB page, starting at a candidate image base) for MZ and PE headers;
  /// nil unless both signatures, a known optional-header magic and a plausible size are there.
  public static func probeHeader(_ bytes: [UInt8]) -> PEHeaderProbe? {
    let b = PEBytes(bytes, origin: 0, source: "<probe>", structure: "probe")
    guard (try? b.u16(0)) == 0x5A4D, let lfanew = try? b.u32(0x3C), lfanew >= 4, lfanew <= 0x1000_0000 else {
      return nil
    }
    let nt = Int(lfanew)
    // Signature 4 bytes + file header 20: the optional header starts at nt + 24 (nt ≤ 2^28).
    guard (try? b.u32(nt)) == 0x0000_4550,
      let machine = try? b.u16(nt + 4), let sections = try? b.u16(nt + 6), let stamp = try? b.u32(nt + 8),
      let characteristics = try? b.u16(nt + 22), let magic = try? b.u16(nt + 24),
      let kind = PEOptionalHeaderMagic(rawValue: magic),
      let sizeOfImage = try? b.u32(nt + 24 + 56), let sizeOfHeaders = try? b.u32(nt + 24 + 60),
      let checkSum = try? b.u32(nt + 24 + 64), let entry = try? b.u32(nt + 24 + 16),
      sizeOfImage != 0, sections <= COFFFileHeader.maximumSections
    else { return nil }
    return PEHeaderProbe(
      ntHeaderOffset: lfanew, machine: machine, numberOfSections: sections, timeDateStamp: stamp,
      characteristics: characteristics, is64Bit: kind == .pe32Plus, sizeOfImage: sizeOfImage,
      sizeOfHeaders: sizeOfHeaders, checkSum: checkSum, addressOfEntryPoint: entry)
  }
}
