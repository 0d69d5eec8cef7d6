// Compares a PEImage with llvm-readobj's report of the same file: file header, optional header,
// data directories, sections, exports and debug directory. Used for the file and mapped layouts.

import PortableExecutable
import Testing

/// The llvm-readobj options whose output `expectMatchesReadobj` checks.
let readobjOptions = ["--file-headers", "--sections", "--coff-exports", "--coff-debug-directory"]

/// Expects every header field, section, export and debug entry of `image` to equal llvm-readobj's.
func expectMatchesReadobj(_ image: PEImage, _ report: ReadobjNode, resolvesLongNames: Bool = true) throws {
  let file = try #require(report.first("ImageFileHeader"))
  #expect(UInt64(image.fileHeader.machine) == file.number("Machine"))
  #expect(UInt64(image.fileHeader.numberOfSections) == file.number("SectionCount"))
  #expect(UInt64(image.fileHeader.timeDateStamp) == file.number("TimeDateStamp"))
  #expect(UInt64(image.fileHeader.sizeOfOptionalHeader) == file.number("OptionalHeaderSize"))
  #expect(UInt64(image.fileHeader.pointerToSymbolTable) == file.number("PointerToSymbolTable"))
  #expect(UInt64(image.fileHeader.numberOfSymbols) == file.number("SymbolCount"))
  #expect(
    UInt64(image.fileHeader.characteristics) == file.first("Characteristics").flatMap { ReadobjNode.number($0.header) })

  let optional = try #require(report.first("ImageOptionalHeader"))
  let o = image.optionalHeader
  #expect(UInt64(o.magic.rawValue) == optional.number("Magic"))
  #expect(image.is64Bit == (optional.number("Magic") == 0x20B))
  #expect(UInt64(o.majorLinkerVersion) == optional.number("MajorLinkerVersion"))
  #expect(UInt64(o.minorLinkerVersion) == optional.number("MinorLinkerVersion"))
  #expect(UInt64(o.sizeOfCode) == optional.number("SizeOfCode"))
  #expect(UInt64(o.addressOfEntryPoint) == optional.number("AddressOfEntryPoint"))
  #expect(UInt64(o.baseOfCode) == optional.number("BaseOfCode"))
  #expect(o.imageBase == optional.number("ImageBase"))
  #expect(UInt64(o.sectionAlignment) == optional.number("SectionAlignment"))
  #expect(UInt64(o.fileAlignment) == optional.number("FileAlignment"))
  #expect(UInt64(o.majorOperatingSystemVersion) == optional.number("MajorOperatingSystemVersion"))
  #expect(UInt64(o.minorOperatingSystemVersion) == optional.number("MinorOperatingSystemVersion"))
  #expect(UInt64(o.majorImageVersion) == optional.number("MajorImageVersion"))
  #expect(UInt64(o.minorImageVersion) == optional.number("MinorImageVersion"))
  #expect(UInt64(o.majorSubsystemVersion) == optional.number("MajorSubsystemVersion"))
  #expect(UInt64(o.minorSubsystemVersion) == optional.number("MinorSubsystemVersion"))
  #expect(UInt64(o.sizeOfImage) == optional.number("SizeOfImage"))
  #expect(UInt64(o.sizeOfHeaders) == optional.number("SizeOfHeaders"))
  #expect(UInt64(o.subsystem) == optional.number("Subsystem"))
  #expect(
    UInt64(o.dllCharacteristics) == optional.first("Characteristics").flatMap { ReadobjNode.number($0.header) })
  #expect(o.sizeOfStackReserve == optional.number("SizeOfStackReserve"))
  #expect(o.sizeOfStackCommit == optional.number("SizeOfStackCommit"))
  #expect(o.sizeOfHeapReserve == optional.number("SizeOfHeapReserve"))
  #expect(o.sizeOfHeapCommit == optional.number("SizeOfHeapCommit"))
  #expect(UInt64(o.numberOfRvaAndSizes) == optional.number("NumberOfRvaAndSize"))
  let directoryFields = try #require(optional.first("DataDirectory")).fields.map { ReadobjNode.number($0.value) }
  let ours = o.dataDirectories.flatMap { [UInt64($0.rva), UInt64($0.size)] as [UInt64?] }
  #expect(ours == directoryFields)

  let dos = try #require(report.first("DOSHeader"))
  #expect(UInt64(image.dosHeader.newHeaderOffset) == dos.number("AddressOfNewExeHeader"))

  let sections = report.all("Section")
  #expect(sections.count == image.sections.count)
  for (ours, theirs) in zip(image.sections, sections) {
    let nameField = theirs["Name"] ?? ""
    let split = nameField.range(of: " (", options: .backwards)
    let name = split.map { String(nameField[..<$0.lowerBound]) } ?? nameField
    let raw = split.map { readobjBytes(String(nameField[$0.lowerBound...])) } ?? []
    #expect(ours.rawName == raw)
    if resolvesLongNames { #expect(ours.name == name) }
    #expect(UInt64(ours.virtualSize) == theirs.number("VirtualSize"))
    #expect(UInt64(ours.virtualAddress) == theirs.number("VirtualAddress"))
    #expect(UInt64(ours.sizeOfRawData) == theirs.number("RawDataSize"))
    #expect(UInt64(ours.pointerToRawData) == theirs.number("PointerToRawData"))
    #expect(UInt64(ours.characteristics) == theirs.first("Characteristics").flatMap { ReadobjNode.number($0.header) })
    #expect(image.section(containing: ours.virtualAddress)?.rawName == raw)
  }

  // llvm-readobj lists every address-table slot; unused ones (RVA 0, no name) are left out by us.
  let exports = report.all("Export").filter { $0.number("RVA") != 0 || !($0["Name"] ?? "").isEmpty }
  let ourExports = try image.exports()
  #expect(ourExports.entries.count == exports.count)
  for (ours, theirs) in zip(ourExports.entries, exports) {
    #expect(UInt64(ours.ordinal) == theirs.number("Ordinal"))
    #expect((ours.name ?? "") == (theirs["Name"] ?? ""))
    #expect(UInt64(ours.rva) == theirs.number("RVA"))
    if let name = ours.name { #expect(ourExports.entry(named: name)?.ordinal == ours.ordinal) }
  }

  let debug = report.all("DebugEntry")
  let ourDebug = try image.debugDirectory()
  #expect(ourDebug.count == debug.count)
  for (ours, theirs) in zip(ourDebug, debug) {
    #expect(UInt64(ours.characteristics) == theirs.number("Characteristics"))
    #expect(UInt64(ours.timeDateStamp) == theirs.number("TimeDateStamp"))
    #expect(UInt64(ours.majorVersion) == theirs.number("MajorVersion"))
    #expect(UInt64(ours.minorVersion) == theirs.number("MinorVersion"))
    #expect(UInt64(ours.type) == theirs.number("Type"))
    #expect(UInt64(ours.sizeOfData) == theirs.number("SizeOfData"))
    #expect(UInt64(ours.addressOfRawData) == theirs.number("AddressOfRawData"))
    #expect(UInt64(ours.pointerToRawData) == theirs.number("PointerToRawData"))
  }
  if let pdb = report.first("PDBInfo") {
    let cv = try #require(try image.codeView())
    #expect(cv.format == .rsds)
    #expect(cv.guid == readobjBytes(pdb["PDBGUID"] ?? ""))
    #expect(UInt64(cv.age) == pdb.number("PDBAge"))
    #expect(cv.pdbPath == pdb["PDBFileName"])
  } else {
    #expect(try image.codeView() == nil)
  }
}

/// Expects the version resource and the x64 function table of `image` to equal pefile's.
func expectMatchesPefile(_ image: PEImage, _ report: PefileReport) throws {
  let version = try image.versionInfo()
  #expect(version?.fileVersion?.description == report.fileVersion)
  #expect(version?.productVersion?.description == report.productVersion)
  if let ms = report.fileVersionMS, let ls = report.fileVersionLS {
    #expect(version?.fileVersion == PEVersionNumber(ms: UInt32(ms), ls: UInt32(ls)))
  }
  let ourTables = Dictionary(
    (version?.stringTables ?? []).map { table in
      (table.key, Dictionary(table.strings.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a }))
    }, uniquingKeysWith: { a, _ in a })
  #expect(ourTables == report.strings)
  #expect((version?.translations ?? []).map(UInt64.init) == report.translations)
  #expect(UInt64(image.optionalHeader.checkSum) == report.checkSum)

  let table = try image.exceptionDirectory()
  #expect(
    table.map { [UInt64($0.beginAddress), UInt64($0.endAddress), UInt64($0.unwindInfoAddress)] } == report.exceptions)
  // Lookup: every function's first and last byte finds it; a gap between functions finds nothing.
  for (i, f) in table.enumerated() where f.endAddress > f.beginAddress {
    #expect(RuntimeFunction.lookup(f.beginAddress, in: table) == f)
    #expect(RuntimeFunction.lookup(f.endAddress - 1, in: table) == f)
    if i + 1 < table.count, table[i + 1].beginAddress > f.endAddress {
      #expect(RuntimeFunction.lookup(f.endAddress, in: table) == nil)
    }
  }
  if let first = table.first, first.beginAddress > 0 {
    #expect(RuntimeFunction.lookup(first.beginAddress - 1, in: table) == nil)
  }
}
