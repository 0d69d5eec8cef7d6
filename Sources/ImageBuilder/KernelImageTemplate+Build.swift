// The synthetic kernel laid out like a real build: SizeOfImage as that build's, and a writable .data
// section covering the RVAs of the kernel variables a scenario writes, with the data exports
// (NtBuildNumber, PsLoadedModuleList, …) and code exports at the build's own RVAs where they fall in
// a section of the same kind. Sections: .text, .rdata (3 pages), PAGE, .data, INIT, then the
// generated .pdata and .rsrc (one page each).

extension KernelImageTemplate {
  /// Bytes reserved at the end of the image for the generated `.pdata` and `.rsrc` sections.
  static let generatedTail: UInt64 = 0x2000
  /// Size of the `.rdata` section (its contents plus the export and debug directories fit in it).
  static let readOnlySize: UInt64 = 0x3000

  /// Resizes the template's sections so the image matches `facts` and moves exports to their RVAs.
  static func sizeLikeBuild(_ pe: inout PEBuilder, facts: KernelBuildFacts, build: UInt32) throws {
    guard facts.sizeOfImage < 0x4000_0000 else {
      throw ImageBuilderError.invalid("SizeOfImage \(hexText(facts.sizeOfImage)) is larger than 1 GiB")
    }
    // NtBuildNumber is only read. On Windows 7 and 8.1 it is a constant near the start of the image
    // (RVA 0xa14c, 0x1b638: inside .text), below the room .text and .rdata need; there it is written
    // into .text instead of pulling .data down. From Windows 10 on it lies among the data variables.
    let textContents = UInt64(pe.sections.first { $0.name == ".text" }?.contents.count ?? 0)
    let codeFloor = 0x1000 + readOnlySize + 2 * textContents
    let buildInText = facts.symbols["NtBuildNumber"].flatMap { $0 >= 0x1000 && $0 < codeFloor ? $0 : nil }
    let variables = DemoScenario.variables.filter { !(buildInText != nil && $0 == "NtBuildNumber") }
      .compactMap { facts.symbols[$0] }
    if let past = variables.first(where: { $0 >= facts.sizeOfImage }) {
      throw ImageBuilderError.invalid(
        "a variable at RVA \(hexText(past)) does not fit SizeOfImage \(hexText(facts.sizeOfImage))")
    }
    guard let low = variables.min(), let high = variables.max() else {
      throw ImageBuilderError.invalid("the kernel build's table has none of the scenario's variables")
    }
    let dataStart = low & ~0xFFF
    // The highest variable may be an array (PnpDeviceClassNotifyList: 13 LIST_ENTRYs).
    let dataEnd = alignUp(high + 0x200, 0x1000)
    guard dataStart >= 0x1_0000, dataEnd + generatedTail + 0x1000 <= facts.sizeOfImage else {
      throw ImageBuilderError.invalid(
        "variables at RVAs \(hexText(low))–\(hexText(high)) do not fit SizeOfImage \(hexText(facts.sizeOfImage))")
    }
    // .rdata (with the debug directory) stays inside the first 2 MiB (mapped whole, with a large page):
    // readers such as Volatility 3's PDB scan walk back page by page from the RSDS record to the MZ
    // header and give up after 100 unmapped pages.
    let textSize = min(((dataStart - 0x1000 - readOnlySize) / 2) & ~0xFFF, 0x10_0000)
    let pageStart = 0x1000 + textSize + readOnlySize
    let plan: [(name: String, start: UInt64, size: UInt64)] = [
      (".text", 0x1000, textSize),
      (".rdata", 0x1000 + textSize, readOnlySize),
      ("PAGE", pageStart, dataStart - pageStart),
      (".data", dataStart, dataEnd - dataStart),
      ("INIT", dataEnd, facts.sizeOfImage - generatedTail - dataEnd),
    ]
    for (name, _, size) in plan {
      guard let index = pe.sections.firstIndex(where: { $0.name == name }) else {
        throw ImageBuilderError.invalid("kernel template has no section \(name)")
      }
      guard UInt64(pe.sections[index].contents.count) <= size else {
        throw ImageBuilderError.invalid("section \(name) holds more than \(hexText(size)) bytes")
      }
      pe.sections[index].virtualSize = Int(size)
      if name == ".text", let rva = buildInText, rva + 4 <= 0x1000 + size {
        var text = ByteBuffer(pe.sections[index].contents)
        text.put(UInt32(0xF000_0000) | build, at: Int(rva - 0x1000))
        pe.sections[index].contents = text.bytes
      }
      if name == ".data" {
        var data = ByteBuffer()
        let buildRVA = facts.symbols["NtBuildNumber"].flatMap { $0 >= dataStart && $0 < dataEnd ? $0 : nil }
        data.put(UInt32(0xF000_0000) | build, at: Int((buildRVA ?? dataStart + 0x10) - dataStart))
        pe.sections[index].contents = data.bytes
      }
    }
    let order = plan.map(\.name)
    pe.sections.sort { (order.firstIndex(of: $0.name) ?? order.count) < (order.firstIndex(of: $1.name) ?? order.count) }
    // An export moves to the build's RVA when that RVA lies in a section of the same kind.
    for (i, export) in pe.exports.enumerated() {
      guard let name = export.name, let rva = facts.symbols[name],
        case .location(let old) = export.target,
        let section = plan.first(where: { rva >= $0.start && rva < $0.start + $0.size })
      else { continue }
      let isCode = section.name == ".text" || section.name == "PAGE"
      let wasCode = old.section == ".text" || old.section == "PAGE"
      guard isCode == wasCode, section.name != ".rdata", section.name != "INIT" else { continue }
      pe.exports[i].target = .location(.init(section: section.name, offset: Int(rva - section.start)))
    }
  }
}
