// One test per kind of broken input: each must throw a clear PEError of the right case, naming the
// structure, never trap or loop.

import BinaryReading
import PortableExecutable
import Testing

@Suite struct BadInputTests {
  @Test func theSyntheticFileIsValid() throws {
    var pe = SyntheticPE()
    pe.addExports([("Good", 0x1800)])
    let image = try pe.image()
    #expect(image.is64Bit)
    #expect(image.optionalHeader.imageBase == 0x1_8000_0000)
    #expect(image.sections.map(\.name) == [".data"])
    #expect(try image.exports().entry(named: "Good")?.rva == 0x1800)
  }

  @Test func truncatedDOSHeader() {
    let pe = SyntheticPE()
    let error = #expect(throws: PEError.self) {
      try PEImage(source: InMemoryByteSource(Array(pe.bytes.prefix(30)), name: "short.sys"), layout: .file)
    }
    #expect(error == .truncated(source: "short.sys", offset: 0, count: 64, size: 30, structure: "DOS header"))
  }

  @Test func badMZ() {
    var pe = SyntheticPE()
    pe.put(0, Array("ZM".utf8))
    let error = #expect(throws: PEError.self) { try pe.image() }
    guard case .badSignature(_, 0, "DOS header", _, "0x4d5a") = error else {
      Issue.record("unexpected \(String(describing: error))")
      return
    }
  }

  @Test func newHeaderOffsetPastTheEnd() {
    var pe = SyntheticPE()
    pe.put32(0x3C, 0x10_0000)
    let error = #expect(throws: PEError.self) { try pe.image() }
    guard case .truncated(_, 0x10_0000, 24, 0x1400, _) = error else {
      Issue.record("unexpected \(String(describing: error))")
      return
    }
  }

  @Test func badPESignature() {
    var pe = SyntheticPE()
    pe.put(SyntheticPE.ntOffset, Array("PX\0\0".utf8))
    let error = #expect(throws: PEError.self) { try pe.image() }
    guard case .badSignature(_, UInt64(SyntheticPE.ntOffset), "NT headers", _, _) = error else {
      Issue.record("unexpected \(String(describing: error))")
      return
    }
  }

  @Test func absurdNumberOfSections() {
    var pe = SyntheticPE()
    pe.put16(SyntheticPE.ntOffset + 6, 0xFFFF)
    let error = #expect(throws: PEError.self) { try pe.image() }
    guard case .corrupt(_, _, "COFF file header", let detail) = error else {
      Issue.record("unexpected \(String(describing: error))")
      return
    }
    #expect(detail.contains("65535") && detail.contains("96"))
  }

  @Test func absurdSizeOfOptionalHeader() {
    var pe = SyntheticPE()
    pe.put16(SyntheticPE.ntOffset + 20, 0xFFFF)
    let error = #expect(throws: PEError.self) { try pe.image() }
    guard case .corrupt(_, _, "COFF file header", let detail) = error else {
      Issue.record("unexpected \(String(describing: error))")
      return
    }
    #expect(detail.contains("SizeOfOptionalHeader"))
  }

  @Test func optionalHeaderTooSmallForItsMagic() {
    var pe = SyntheticPE()
    pe.put16(SyntheticPE.ntOffset + 20, 96)  // PE32+ needs 112 bytes before the directories
    let error = #expect(throws: PEError.self) { try pe.image() }
    guard case .corrupt(_, _, "optional header", _) = error else {
      Issue.record("unexpected \(String(describing: error))")
      return
    }
  }

  @Test func romImageIsUnsupportedNotCorrupt() {
    var pe = SyntheticPE()
    pe.put16(SyntheticPE.optionalOffset, 0x107)
    let error = #expect(throws: PEError.self) { try pe.image() }
    guard case .unsupported(_, _, "optional header", _) = error else {
      Issue.record("unexpected \(String(describing: error))")
      return
    }
  }

  @Test func sectionTableCutOff() {
    let pe = SyntheticPE()
    let bytes = Array(pe.bytes.prefix(SyntheticPE.sectionTable + 20))
    let error = #expect(throws: PEError.self) {
      try PEImage(source: InMemoryByteSource(bytes, name: "cut.sys"), layout: .file)
    }
    guard case .truncated(_, UInt64(SyntheticPE.sectionTable), 40, _, "section table") = error else {
      Issue.record("unexpected \(String(describing: error))")
      return
    }
  }

  @Test func exportDirectoryPastSizeOfImage() throws {
    var pe = SyntheticPE()
    pe.addExports([("A", 0x1800)])
    pe.setDirectory(.export, rva: 0x1F00, size: 0x200)  // ends at 0x2100 > SizeOfImage 0x2000
    let error = #expect(throws: PEError.self) { try pe.image().exports() }
    guard case .invalidRVA(_, 0x1F00, 0x200, "export directory", _) = error else {
      Issue.record("unexpected \(String(describing: error))")
      return
    }
  }

  @Test func hugeNumberOfNames() throws {
    var pe = SyntheticPE()
    pe.addExports([("A", 0x1800)])
    pe.put32(rva: 0x1018, 0x7FFF_FFFF)
    let error = #expect(throws: PEError.self) { try pe.image().exports() }
    guard case .corrupt(_, 0x1018, "export directory", let detail) = error else {
      Issue.record("unexpected \(String(describing: error))")
      return
    }
    #expect(detail.contains("NumberOfNames"))
  }

  @Test func hugeNumberOfFunctions() throws {
    var pe = SyntheticPE()
    pe.addExports([("A", 0x1800)])
    pe.put32(rva: 0x1014, 0x0100_0000)
    let error = #expect(throws: PEError.self) { try pe.image().exports() }
    guard case .corrupt(_, 0x1014, "export directory", _) = error else {
      Issue.record("unexpected \(String(describing: error))")
      return
    }
  }

  @Test func exportNameRVAOutsideTheImage() throws {
    var pe = SyntheticPE()
    pe.addExports([("A", 0x1800), ("B", 0x1804)])
    pe.put32(rva: 0x1204, 0xFFFF_0000)  // second name pointer
    let error = #expect(throws: PEError.self) { try pe.image().exports() }
    guard case .invalidRVA(_, 0xFFFF_0000, _, "export name #1", _) = error else {
      Issue.record("unexpected \(String(describing: error))")
      return
    }
  }

  @Test func exportAddressTablePointingOutsideTheImage() throws {
    var pe = SyntheticPE()
    pe.addExports([("A", 0x1800)])
    pe.put32(rva: 0x101C, 0xFFFF_FFF0)
    let error = #expect(throws: PEError.self) { try pe.image().exports() }
    guard case .invalidRVA(_, 0xFFFF_FFF0, 4, "export address table", _) = error else {
      Issue.record("unexpected \(String(describing: error))")
      return
    }
  }

  @Test func directoryCountIsClippedToTheOptionalHeader() throws {
    var pe = SyntheticPE()
    pe.put32(SyntheticPE.optionalOffset + 108, 0xFFFF_FFFF)  // NumberOfRvaAndSizes
    pe.put16(SyntheticPE.ntOffset + 20, 112 + 3 * 8)  // room for three directories only
    pe.put(SyntheticPE.optionalOffset + 136, [UInt8](repeating: 0, count: 104))
    // The section table now starts right after the shorter optional header.
    let table = Array(pe.bytes[SyntheticPE.sectionTable..<(SyntheticPE.sectionTable + 40)])
    pe.put(SyntheticPE.optionalOffset + 136, table)
    let image = try pe.image()
    #expect(image.optionalHeader.numberOfRvaAndSizes == 0xFFFF_FFFF)
    #expect(image.optionalHeader.dataDirectories.count == 3)
    #expect(image.optionalHeader.directory(.debug) == nil)
    #expect(image.sections.map(\.name) == [".data"])
  }

  @Test func exportOrdinalIndexOutsideTheAddressTable() throws {
    var pe = SyntheticPE()
    pe.addExports([("A", 0x1800)])
    pe.put16(rva: 0x1300, 5)
    let error = #expect(throws: PEError.self) { try pe.image().exports() }
    guard case .corrupt(_, 0x1300, "export ordinal table", _) = error else {
      Issue.record("unexpected \(String(describing: error))")
      return
    }
  }

  @Test func resourceDirectoryLoop() throws {
    var pe = SyntheticPE()
    pe.addVersionResource(VersionBlockWriter.string("x", "y"))
    pe.put32(rva: 0x182C, 0x8000_0018)  // the name directory's entry points at the name directory
    let error = #expect(throws: PEError.self) { try pe.image().versionInfo() }
    guard case .corrupt(_, _, "resource directory", let detail) = error else {
      Issue.record("unexpected \(String(describing: error))")
      return
    }
    #expect(detail.contains("loop"))
  }

  @Test func resourceDirectoryBackToTheRoot() throws {
    var pe = SyntheticPE()
    pe.addVersionResource(VersionBlockWriter.string("x", "y"))
    pe.put32(rva: 0x1814, 0x8000_0000)  // type RT_VERSION → the root itself
    let error = #expect(throws: PEError.self) { try pe.image().versionInfo() }
    guard case .corrupt(_, _, "resource directory", let detail) = error else {
      Issue.record("unexpected \(String(describing: error))")
      return
    }
    #expect(detail.contains("loop"))
  }

  @Test func resourceTreeDeeperThanThreeLevels() throws {
    var pe = SyntheticPE()
    pe.addVersionResource(VersionBlockWriter.string("x", "y"))
    pe.put32(rva: 0x1844, 0x8000_0060)  // language entry → another directory
    pe.put16(rva: 0x1860 + 14, 1)
    pe.put32(rva: 0x1860 + 20, 0x48)
    let error = #expect(throws: PEError.self) { try pe.image().versionInfo() }
    guard case .corrupt(_, _, "resource directory", let detail) = error else {
      Issue.record("unexpected \(String(describing: error))")
      return
    }
    #expect(detail.contains("deeper than 3"))
  }

  @Test func resourceOffsetOutsideTheDirectory() throws {
    var pe = SyntheticPE()
    pe.addVersionResource(VersionBlockWriter.string("x", "y"))
    pe.put32(rva: 0x1814, 0x8000_4000)
    let error = #expect(throws: PEError.self) { try pe.image().versionInfo() }
    guard case .corrupt(_, _, "resource directory", _) = error else {
      Issue.record("unexpected \(String(describing: error))")
      return
    }
  }

  @Test func debugDirectorySizeNotAMultipleOf28() throws {
    var pe = SyntheticPE()
    pe.addCodeView(Array("RSDS".utf8) + [UInt8](repeating: 1, count: 20) + [0])
    pe.setDirectory(.debug, rva: 0x1A00, size: 30)
    let error = #expect(throws: PEError.self) { try pe.image().debugDirectory() }
    guard case .corrupt(_, 0x1A00, "debug directory", let detail) = error else {
      Issue.record("unexpected \(String(describing: error))")
      return
    }
    #expect(detail.contains("multiple of the 28-byte"))
  }

  @Test func unknownCodeViewSignatureIsUnsupported() throws {
    var pe = SyntheticPE()
    pe.addCodeView(Array("NB09".utf8) + [UInt8](repeating: 0, count: 12))
    let error = #expect(throws: PEError.self) { try pe.image().codeView() }
    guard case .unsupported(_, 0x1A40, "CodeView record", _) = error else {
      Issue.record("unexpected \(String(describing: error))")
      return
    }
  }

  @Test func rsdsRecordTooShort() throws {
    var pe = SyntheticPE()
    pe.addCodeView(Array("RSDS".utf8) + [1, 2, 3])
    let error = #expect(throws: PEError.self) { try pe.image().codeView() }
    guard case .truncated(_, _, _, _, "CodeView record") = error else {
      Issue.record("unexpected \(String(describing: error))")
      return
    }
  }

  @Test func readPastSizeOfImageAndInNoSection() throws {
    let image = try SyntheticPE().image()
    let past = #expect(throws: PEError.self) { try image.read(rva: 0x1FF0, count: 0x20) }
    guard case .invalidRVA(_, 0x1FF0, 0x20, _, _) = past else {
      Issue.record("unexpected \(String(describing: past))")
      return
    }
    // [0x400, 0x1000) is neither headers (SizeOfHeaders 0x400) nor a section.
    let gap = #expect(throws: PEError.self) { try image.read(rva: 0x800, count: 4) }
    guard case .invalidRVA(_, 0x800, 4, _, let detail) = gap else {
      Issue.record("unexpected \(String(describing: gap))")
      return
    }
    #expect(detail.contains("no section"))
  }

  @Test func versionBlockLongerThanItsParent() throws {
    let child = VersionBlockWriter.string("Key", "Value")
    var data = VersionBlockWriter.block(
      key: "VS_VERSION_INFO", type: 0, value: [], valueLength: 0, children: [child])
    data[data.count - child.count] = 0xF0  // the child's wLength now runs past the parent
    let error = #expect(throws: PEError.self) { try PEImage.parseVersionInfo(data) }
    guard case .corrupt(_, _, "VS_VERSIONINFO", let detail) = error else {
      Issue.record("unexpected \(String(describing: error))")
      return
    }
    #expect(detail.contains("block length"))
  }

  @Test func versionFixedInfoWithBadSignature() throws {
    var fixed = VersionBlockWriter.fixed(file: (0x1_0002, 0x3_0004), product: (0, 0))
    fixed[0] = 0
    let data = VersionBlockWriter.block(key: "VS_VERSION_INFO", type: 0, value: fixed, valueLength: 52, children: [])
    let error = #expect(throws: PEError.self) { try PEImage.parseVersionInfo(data) }
    guard case .badSignature(_, 40, "VS_FIXEDFILEINFO", _, _) = error else {
      Issue.record("unexpected \(String(describing: error))")
      return
    }
  }

  @Test func versionRootWithTheWrongKey() throws {
    let data = VersionBlockWriter.block(key: "VS_VERSION_INFX", type: 0, value: [], valueLength: 0, children: [])
    let error = #expect(throws: PEError.self) { try PEImage.parseVersionInfo(data) }
    guard case .badSignature(_, _, "VS_VERSIONINFO", _, _) = error else {
      Issue.record("unexpected \(String(describing: error))")
      return
    }
  }

  @Test func missingFileIsUnavailable() {
    let error = #expect(throws: PEError.self) { try PEImage.open(path: "/nonexistent/ntoskrnl.exe") }
    guard case .unavailable("/nonexistent/ntoskrnl.exe", 0, 0, "file", _) = error else {
      Issue.record("unexpected \(String(describing: error))")
      return
    }
  }

  @Test func messagesNameSourceStructureAndOffset() {
    let error = PEError.corrupt(
      source: "ntoskrnl.exe", offset: 0x1018, structure: "export directory", detail: "NumberOfNames 2147483647")
    #expect(error.description == "ntoskrnl.exe: export directory at offset 0x1018: corrupt: NumberOfNames 2147483647")
  }
}
