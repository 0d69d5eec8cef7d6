// A minimal PE32+ file written field by field from the PE Format document's tables, for bad-input
// tests: headers in [0, 0x400), one section ".data" at RVA 0x1000 whose raw data is at file offset
// 0x400. Directories are placed in the section by the helpers below; tests then break one field.

import BinaryReading
import PortableExecutable

struct SyntheticPE {
  var bytes = [UInt8](repeating: 0, count: 0x1400)
  static let ntOffset = 0x80
  static let optionalOffset = ntOffset + 24
  static let sectionTable = optionalOffset + 240
  static let sectionRVA: UInt32 = 0x1000
  static let sectionRaw = 0x400

  init() {
    put(0, [0x4D, 0x5A])  // "MZ"
    put32(0x3C, UInt32(Self.ntOffset))  // e_lfanew
    put(Self.ntOffset, [0x50, 0x45, 0, 0])  // "PE\0\0"
    let coff = Self.ntOffset + 4
    put16(coff, 0x8664)  // Machine AMD64
    put16(coff + 2, 1)  // NumberOfSections
    put32(coff + 4, 0x5F5E_1000)  // TimeDateStamp
    put16(coff + 16, 240)  // SizeOfOptionalHeader (PE32+, 16 directories)
    put16(coff + 18, 0x2022)  // DLL | executable | large address aware
    let o = Self.optionalOffset
    put16(o, 0x20B)  // PE32+
    put32(o + 24, 0x8000_0000)  // ImageBase low
    put32(o + 28, 0x1)  // ImageBase high
    put32(o + 32, 0x1000)  // SectionAlignment
    put32(o + 36, 0x200)  // FileAlignment
    put32(o + 56, 0x2000)  // SizeOfImage
    put32(o + 60, 0x400)  // SizeOfHeaders
    put16(o + 68, 1)  // Subsystem native
    put32(o + 108, 16)  // NumberOfRvaAndSizes
    let s = Self.sectionTable
    put(s, Array(".data".utf8))
    put32(s + 8, 0x1000)  // VirtualSize
    put32(s + 12, Self.sectionRVA)  // VirtualAddress
    put32(s + 16, 0x1000)  // SizeOfRawData
    put32(s + 20, UInt32(Self.sectionRaw))  // PointerToRawData
    put32(s + 36, 0xC000_0040)  // initialised data, read, write
  }

  mutating func put(_ at: Int, _ value: [UInt8]) {
    if bytes.count < at + value.count { bytes += [UInt8](repeating: 0, count: at + value.count - bytes.count) }
    bytes.replaceSubrange(at..<(at + value.count), with: value)
  }
  mutating func put16(_ at: Int, _ value: UInt16) { put(at, [UInt8(value & 0xFF), UInt8(value >> 8)]) }
  mutating func put32(_ at: Int, _ value: UInt32) {
    put(at, (0..<4).map { UInt8((value >> (8 * UInt32($0))) & 0xFF) })
  }

  /// File offset of an RVA inside the section.
  static func offset(_ rva: UInt32) -> Int { Int(rva - sectionRVA) + sectionRaw }
  mutating func putRVA(_ rva: UInt32, _ value: [UInt8]) { put(Self.offset(rva), value) }
  mutating func put32(rva: UInt32, _ value: UInt32) { put32(Self.offset(rva), value) }
  mutating func put16(rva: UInt32, _ value: UInt16) { put16(Self.offset(rva), value) }

  mutating func setDirectory(_ index: PEDirectoryIndex, rva: UInt32, size: UInt32) {
    put32(Self.optionalOffset + 112 + 8 * index.rawValue, rva)
    put32(Self.optionalOffset + 116 + 8 * index.rawValue, size)
  }

  /// An export directory at 0x1000 (size 0x600): DLL name "synth.sys", OrdinalBase 1, the given
  /// (name, RVA) pairs; the address table at 0x1100, name pointers 0x1200, ordinals 0x1300, strings 0x1400.
  mutating func addExports(_ exports: [(String, UInt32)]) {
    setDirectory(.export, rva: 0x1000, size: 0x600)
    var strings: UInt32 = 0x1400
    func string(_ text: String) -> UInt32 {
      let at = strings
      putRVA(at, Array(text.utf8) + [0])
      strings += UInt32(text.utf8.count + 1)
      return at
    }
    put32(rva: 0x100C, string("synth.sys"))
    put32(rva: 0x1010, 1)  // OrdinalBase
    put32(rva: 0x1014, UInt32(exports.count))  // NumberOfFunctions
    put32(rva: 0x1018, UInt32(exports.count))  // NumberOfNames
    put32(rva: 0x101C, 0x1100)
    put32(rva: 0x1020, 0x1200)
    put32(rva: 0x1024, 0x1300)
    for (i, (name, rva)) in exports.enumerated() {
      put32(rva: 0x1100 + UInt32(4 * i), rva)
      put32(rva: 0x1200 + UInt32(4 * i), string(name))
      put16(rva: 0x1300 + UInt32(2 * i), UInt16(i))
    }
  }

  /// A resource tree at 0x1800 (size 0x100): RT_VERSION → ID 1 → language 0x409 → data at 0x1900.
  mutating func addVersionResource(_ data: [UInt8]) {
    setDirectory(.resource, rva: 0x1800, size: 0x100)
    func directory(_ at: UInt32, id: UInt32, target: UInt32) {
      put16(rva: at + 14, 1)  // one ID entry
      put32(rva: at + 16, id)
      put32(rva: at + 20, target)
    }
    directory(0x1800, id: 16, target: 0x8000_0018)
    directory(0x1818, id: 1, target: 0x8000_0030)
    directory(0x1830, id: 0x409, target: 0x48)
    put32(rva: 0x1848, 0x1900)  // data entry: RVA, size
    put32(rva: 0x184C, UInt32(data.count))
    putRVA(0x1900, data)
  }

  /// A debug directory at 0x1A00 with one CodeView entry whose RSDS record is at 0x1A40.
  mutating func addCodeView(_ record: [UInt8]) {
    setDirectory(.debug, rva: 0x1A00, size: 28)
    put32(rva: 0x1A0C, 2)  // CodeView
    put32(rva: 0x1A10, UInt32(record.count))
    put32(rva: 0x1A14, 0x1A40)
    put32(rva: 0x1A18, UInt32(Self.offset(0x1A40)))
    putRVA(0x1A40, record)
  }

  func image(layout: PELayout = .file) throws(PEError) -> PEImage {
    try PEImage(source: InMemoryByteSource(bytes, name: "synthetic.sys"), layout: layout)
  }
}

/// VS_VERSIONINFO blocks written from the Win32 documentation's layout: wLength, wValueLength, wType,
/// UTF-16LE key with NUL, padding to 4, value, padding to 4, children.
enum VersionBlockWriter {
  static func utf16(_ text: String) -> [UInt8] {
    (Array(text.utf16) + [0]).flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
  }
  static func pad(_ bytes: inout [UInt8]) { while bytes.count % 4 != 0 { bytes.append(0) } }

  static func block(key: String, type: UInt16, value: [UInt8], valueLength: Int, children: [[UInt8]]) -> [UInt8] {
    var out: [UInt8] = [0, 0, UInt8(valueLength & 0xFF), UInt8(valueLength >> 8), UInt8(type), 0]
    out += utf16(key)
    pad(&out)
    out += value
    for child in children {
      pad(&out)
      out += child
    }
    out[0] = UInt8(out.count & 0xFF)
    out[1] = UInt8(out.count >> 8)
    return out
  }

  static func string(_ key: String, _ value: String) -> [UInt8] {
    block(key: key, type: 1, value: utf16(value), valueLength: value.utf16.count + 1, children: [])
  }

  static func le32(_ values: [UInt32]) -> [UInt8] {
    values.flatMap { v in (0..<4).map { UInt8((v >> (8 * UInt32($0))) & 0xFF) } }
  }

  /// VS_FIXEDFILEINFO with the given versions (MS, LS pairs).
  static func fixed(file: (UInt32, UInt32), product: (UInt32, UInt32)) -> [UInt8] {
    le32([0xFEEF_04BD, 0x1_0000, file.0, file.1, product.0, product.1, 0x3F, 0, 0x40004, 3, 7, 0, 0])
  }
}
