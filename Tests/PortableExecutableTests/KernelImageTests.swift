// The mapped layout on a kernel as it lies in a memory image: the shared Windows 10 19041 reference
// image (../shared/images, flat physical memory), read through a minimal x64 4-level page walk, and
// checked against the image's truth file (written independently of CallScope).

import BinaryReading
import Foundation
import PortableExecutable
import TestData
import Testing

/// Virtual memory of one address space over a flat physical image, enough for these tests: 4-level
/// x64 paging with 1 GiB, 2 MiB and 4 KiB leaves (Intel SDM Vol. 3A §4.5, "4-Level Paging"); a page
/// that is not present throws `HolesSource.PageMissing`.
struct KernelVirtualSource: ByteSource {
  let physical: MappedFile
  let dtb: UInt64
  let base: UInt64
  let size: UInt64
  var sourceName: String { "ntoskrnl.exe @ \(Hex.format(base))" }

  private func entry(_ table: UInt64, _ index: UInt64) throws -> UInt64 {
    try physical.loadLE(UInt64.self, at: (table & 0x000F_FFFF_FFFF_F000) + index * 8)
  }

  func translate(_ va: UInt64) throws -> UInt64 {
    let missing = HolesSource.PageMissing(page: va & ~0xFFF)
    let pml4e = try entry(dtb, (va >> 39) & 0x1FF)
    guard pml4e & 1 == 1 else { throw missing }
    let pdpte = try entry(pml4e, (va >> 30) & 0x1FF)
    guard pdpte & 1 == 1 else { throw missing }
    if pdpte & 0x80 != 0 { return (pdpte & 0x000F_FFFF_C000_0000) | (va & 0x3FFF_FFFF) }
    let pde = try entry(pdpte, (va >> 21) & 0x1FF)
    guard pde & 1 == 1 else { throw missing }
    if pde & 0x80 != 0 { return (pde & 0x000F_FFFF_FFE0_0000) | (va & 0x1F_FFFF) }
    let pte = try entry(pde, (va >> 12) & 0x1FF)
    guard pte & 1 == 1 else { throw missing }
    return (pte & 0x000F_FFFF_FFFF_F000) | (va & 0xFFF)
  }

  func read(at offset: UInt64, count: Int) throws -> [UInt8] {
    try checkRange(offset: offset, count: UInt64(count))
    var out: [UInt8] = []
    var va = base + offset
    let end = va + UInt64(count)
    while va < end {
      let chunk = min(end, (va | 0xFFF) + 1) - va
      out += try physical.readBytes(at: try translate(va), count: Int(chunk))
      va += chunk
    }
    return out
  }
}

@Suite struct KernelImageTests {
  static let truthPath = "images/win10-19041-clean.truth.json"

  func load() throws -> (truth: [String: Any], physical: MappedFile) {
    let truth = try #require(try TestData.json(TestData.shared(Self.truthPath).path) as? [String: Any])
    let raw = try TestData.decompressed("images/win10-19041-clean.raw.xz")
    return (truth, try MappedFile(path: raw))
  }

  func kernel(_ truth: [String: Any], _ physical: MappedFile) throws -> PEImage {
    let module = try #require((truth["modules"] as? [[String: Any]])?.first { $0["name"] as? String == "ntoskrnl.exe" })
    let source = KernelVirtualSource(
      physical: physical, dtb: try #require(TestData.hex(truth["dtb"])),
      base: try #require(TestData.hex(module["base"])), size: try #require(TestData.hex(module["size"])))
    return try PEImage(source: source, layout: .mapped)
  }

  @Test func kernelHeadersSectionsExportsAndPDBMatchTheTruth() throws {
    let (truth, physical) = try load()
    let image = try kernel(truth, physical)
    let pe = try #require(truth["nt_pe"] as? [String: Any])
    #expect(UInt64(image.dosHeader.newHeaderOffset) == TestData.hex(pe["e_lfanew"]))
    #expect(UInt64(image.optionalHeader.sizeOfImage) == TestData.hex(pe["size_of_image"]))
    #expect(UInt64(image.fileHeader.timeDateStamp) == TestData.hex(pe["timestamp"]))
    #expect(image.is64Bit)

    let sections = try #require((truth["kernel_mapping"] as? [String: Any])?["sections"] as? [[String: Any]])
    #expect(image.sections.map(\.name) == sections.map { $0["name"] as? String ?? "" })
    for (ours, theirs) in zip(image.sections, sections) {
      #expect(UInt64(ours.virtualAddress) == TestData.hex(theirs["rva"]))
      #expect(UInt64(ours.virtualSize) == TestData.hex(theirs["size"]))
      #expect(UInt64(ours.characteristics) == TestData.hex(theirs["characteristics"]))
    }

    let base = try #require(TestData.hex(truth["kernel_base"]))
    let expected = try #require(pe["exports"] as? [String: String])
    let exports = try image.exports()
    #expect(UInt64(try #require(image.optionalHeader.directory(.export)).rva) == TestData.hex(pe["export_dir_rva"]))
    #expect(exports.dllName.lowercased() == "ntoskrnl.exe")
    #expect(expected.count == 48)
    for (name, va) in expected {
      let rva = try #require(exports.rva(of: name), "export \(name)")
      #expect(base + UInt64(rva) == TestData.hex(va), "export \(name)")
    }

    #expect(UInt64(try #require(image.optionalHeader.directory(.debug)).rva) == TestData.hex(pe["debug_dir_rva"]))
    let codeView = try #require(try image.debugDirectory().first { $0.type == PEDebugType.codeView })
    #expect(UInt64(codeView.addressOfRawData) == TestData.hex(pe["rsds_rva"]))
    let pdb = try #require(truth["pdb"] as? [String: Any])
    let cv = try #require(try image.codeView())
    #expect(cv.guidString == pdb["GUID"] as? String)
    #expect(UInt64(cv.age) == TestData.hex(pdb["age"]))
    #expect(cv.pdbFileName == pdb["name"] as? String)
  }

  @Test func probeReadsSizeOfImageOfEveryModuleHeader() throws {
    let (truth, physical) = try load()
    let dtb = try #require(TestData.hex(truth["dtb"]))
    let modules = try #require(truth["modules"] as? [[String: Any]])
    #expect(modules.count >= 10)
    for module in modules {
      let base = try #require(TestData.hex(module["base"]))
      let source = KernelVirtualSource(physical: physical, dtb: dtb, base: base, size: 0x1000)
      let probe = PEImage.probeHeader(try source.read(at: 0, count: 0x1000))
      #expect(probe.map { UInt64($0.sizeOfImage) } == TestData.hex(module["size"]), "\(module["name"] ?? "?")")
    }
    // A page that is not a header: the kernel's first code page.
    let kernelBase = try #require(TestData.hex(truth["kernel_base"]))
    let code = KernelVirtualSource(physical: physical, dtb: dtb, base: kernelBase + 0x1000, size: 0x1000)
    #expect(PEImage.probeHeader(try code.read(at: 0, count: 0x1000)) == nil)
  }
}
