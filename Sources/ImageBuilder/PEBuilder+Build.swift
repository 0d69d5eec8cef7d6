// Lays a PEBuilder description out: DOS header and stub, NT headers (PE32+ or PE32), section table,
// section data in memory and file layouts, the generated directories, and the PE checksum.
// Header layouts from the Microsoft PE/COFF specification §2 (MS-DOS stub), §3 (COFF file header),
// §3.4 (optional header and data directories), §4 (section table). Checksum: the ImageHlp
// CheckSumMappedFile algorithm (16-bit one's-complement-style sum with carry fold, plus file length).

extension PEBuilder {
  private static let dosStub: [UInt8] =
    [0x0E, 0x1F, 0xBA, 0x0E, 0x00, 0xB4, 0x09, 0xCD, 0x21, 0xB8, 0x01, 0x4C, 0xCD, 0x21]
    + Array("This program cannot be run in DOS mode.\r\r\n$".utf8)
  private static let peHeaderOffset = 0x80

  /// Generated blobs appended to the directory section / added as sections, sized before layout.
  private struct Generated {
    var exportOffset = 0
    var exportSize = 0
    var debugOffset = 0
    var debugSize = 0
    var unwindOffset = 0
  }

  /// Builds both layouts.
  public func build() throws -> PEImage {
    let is64 = machine == .amd64
    guard functions.isEmpty || is64 else { throw ImageBuilderError.invalid("exception data (.pdata) is x64 only") }
    guard is64 || imageBase <= 0xFFFF_FFFF else {
      throw ImageBuilderError.valueTooLarge(what: "PE32 image base", value: imageBase, limit: 0xFFFF_FFFF)
    }
    let sectionAlign = Int(sectionAlignment)
    let fileAlign = Int(fileAlignment)
    guard sectionAlign >= 0x200, fileAlign >= 0x200, sectionAlign % fileAlign == 0 else {
      throw ImageBuilderError.invalid("alignments \(sectionAlign)/\(fileAlign) are not valid")
    }

    // 1. Size the generated blobs (sizes do not depend on RVAs).
    var all = sections
    let needsDirectorySection = !exports.isEmpty || codeView != nil || !functions.isEmpty
    if needsDirectorySection, !all.contains(where: { $0.name == directorySection }) {
      all.append(Section(name: directorySection, characteristics: Section.readOnlyData, contents: []))
    }
    let dummyExports = try PEDirectoryEncoders.exports(
      exports, dllName: exportName ?? "image", ordinalBase: ordinalBase, timeDateStamp: timeDateStamp, at: 0
    ) { _ in 0 }
    var generated = Generated()
    if let dirIndex = all.firstIndex(where: { $0.name == directorySection }) {
      var data = ByteBuffer(all[dirIndex].contents)
      if !exports.isEmpty {
        data.pad(to: 4)
        generated.exportOffset = data.count
        generated.exportSize = dummyExports.bytes.count
        data.appendZeros(generated.exportSize)
      }
      if let codeView {
        data.pad(to: 4)
        generated.debugOffset = data.count
        generated.debugSize = try PEDirectoryEncoders.debugDirectory(codeView, timeDateStamp: 0, at: 0, fileOffset: 0)
          .count
        data.appendZeros(generated.debugSize)
      }
      if !functions.isEmpty {
        data.pad(to: 4)
        generated.unwindOffset = data.count
        data.append(PEDirectoryEncoders.emptyUnwindInfo)
      }
      all[dirIndex].contents = data.bytes
    }
    if !functions.isEmpty {
      all.append(
        Section(
          name: ".pdata", characteristics: Section.readOnlyData,
          contents: [UInt8](repeating: 0, count: 12 * functions.count)))
    }
    if let versionInfo {
      let size = try PEDirectoryEncoders.versionResource(versionInfo, at: 0).count
      all.append(
        Section(name: ".rsrc", characteristics: Section.readOnlyData, contents: [UInt8](repeating: 0, count: size)))
    }
    guard all.count <= 96 else { throw ImageBuilderError.invalid("\(all.count) sections (the loader allows 96)") }
    guard Set(all.map(\.name)).count == all.count else { throw ImageBuilderError.invalid("duplicate section names") }
    for section in all where section.name.utf8.count > 8 {
      throw ImageBuilderError.invalid("section name \(section.name) is longer than 8 bytes")
    }

    // 2. Lay out headers and sections.
    let optionalHeaderSize = is64 ? 240 : 224
    let sectionTableOffset = Self.peHeaderOffset + 4 + 20 + optionalHeaderSize
    let headersSize = alignUp(sectionTableOffset + 40 * all.count, fileAlign)
    var rva = alignUp(headersSize, sectionAlign)
    var fileOffset = headersSize
    var infos: [PEImage.SectionInfo] = []
    for section in all {
      let virtualSize = max(section.virtualSize ?? section.contents.count, section.contents.count)
      let rawSize = alignUp(section.contents.count, fileAlign)
      guard virtualSize < 0x1000_0000, rawSize < 0x1000_0000, rva < 0x3000_0000, fileOffset < 0x3000_0000 else {
        throw ImageBuilderError.invalid("section \(section.name) makes the image larger than 1 GiB")
      }
      infos.append(
        PEImage.SectionInfo(
          name: section.name, virtualAddress: UInt32(rva), virtualSize: UInt32(virtualSize),
          pointerToRawData: rawSize == 0 ? 0 : UInt32(fileOffset), sizeOfRawData: UInt32(rawSize),
          characteristics: section.characteristics))
      rva = alignUp(rva + max(virtualSize, 1), sectionAlign)
      fileOffset += rawSize
    }
    let sizeOfImage = rva
    guard sizeOfImage < 0x4000_0000 else {
      throw ImageBuilderError.invalid("image of \(sizeOfImage) bytes is too large")
    }

    func resolve(_ location: Location) throws -> UInt32 {
      guard let index = all.firstIndex(where: { $0.name == location.section }) else {
        throw ImageBuilderError.invalid("no section \(location.section)")
      }
      let info = infos[index]
      guard location.offset >= 0, location.offset <= Int(info.virtualSize) else {
        throw ImageBuilderError.invalid("offset \(location.offset) is outside section \(location.section)")
      }
      return info.virtualAddress + UInt32(location.offset)
    }

    // 3. Generate the blobs at their RVAs.
    var directories: [Int: (rva: UInt32, size: UInt32)] = [:]
    var exportResult: (bytes: [UInt8], named: [String: UInt32], ordinals: [String: UInt32]) = ([], [:], [:])
    if let dirIndex = all.firstIndex(where: { $0.name == directorySection }) {
      let base = infos[dirIndex].virtualAddress
      let raw = infos[dirIndex].pointerToRawData
      var data = ByteBuffer(all[dirIndex].contents)
      if !exports.isEmpty {
        let at = base + UInt32(generated.exportOffset)
        exportResult = try PEDirectoryEncoders.exports(
          exports, dllName: exportName ?? "image", ordinalBase: ordinalBase, timeDateStamp: timeDateStamp, at: at,
          resolve: resolve)
        data.put(exportResult.bytes, at: generated.exportOffset)
        directories[0] = (at, UInt32(exportResult.bytes.count))
      }
      if let codeView {
        let at = base + UInt32(generated.debugOffset)
        let blob = try PEDirectoryEncoders.debugDirectory(
          codeView, timeDateStamp: timeDateStamp, at: at, fileOffset: raw + UInt32(generated.debugOffset))
        data.put(blob, at: generated.debugOffset)
        directories[6] = (at, 28)
      }
      all[dirIndex].contents = data.bytes
    }
    if let pdataIndex = all.firstIndex(where: { $0.name == ".pdata" }),
      let dirIndex = all.firstIndex(where: { $0.name == directorySection })
    {
      var ranges: [(UInt32, UInt32)] = []
      for function in functions {
        let begin = try resolve(Location(section: function.section, offset: function.start))
        let end = try resolve(Location(section: function.section, offset: function.end))
        guard begin < end else {
          throw ImageBuilderError.invalid("function [\(function.start), \(function.end)) is empty")
        }
        ranges.append((begin, end))
      }
      let unwind = infos[dirIndex].virtualAddress + UInt32(generated.unwindOffset)
      all[pdataIndex].contents = PEDirectoryEncoders.exceptionTable(ranges, unwindInfoRVA: unwind)
      directories[3] = (infos[pdataIndex].virtualAddress, UInt32(12 * functions.count))
    }
    if let versionInfo, let rsrcIndex = all.firstIndex(where: { $0.name == ".rsrc" }) {
      let blob = try PEDirectoryEncoders.versionResource(versionInfo, at: infos[rsrcIndex].virtualAddress)
      all[rsrcIndex].contents = blob
      directories[2] = (infos[rsrcIndex].virtualAddress, UInt32(blob.count))
    }
    let entry = try entryPoint.map(resolve) ?? 0

    // 4. Headers.
    var headers = ByteBuffer()
    headers.append(UInt16(0x5A4D))  // e_magic 'MZ'
    for word: UInt16 in [0x90, 3, 0, 4, 0, 0xFFFF, 0, 0xB8, 0, 0, 0, 0x40, 0] { headers.append(word) }
    headers.appendZeros(0x3C - headers.count)
    headers.append(UInt32(Self.peHeaderOffset))  // e_lfanew
    headers.append(Self.dosStub)
    headers.appendZeros(Self.peHeaderOffset - headers.count)
    headers.append(UInt32(0x0000_4550))  // 'PE\0\0'
    headers.append(machine.rawValue)
    headers.append(UInt16(all.count))
    headers.append(timeDateStamp)
    headers.append(UInt32(0))  // PointerToSymbolTable
    headers.append(UInt32(0))  // NumberOfSymbols
    headers.append(UInt16(optionalHeaderSize))
    headers.append(characteristics)
    let isCode = { (info: PEImage.SectionInfo) in info.characteristics & 0x20 != 0 }
    headers.append(UInt16(is64 ? 0x20B : 0x10B))  // Magic
    headers.append(UInt16(0x0E))  // linker 14.0
    headers.append(UInt32(infos.filter(isCode).reduce(0) { $0 + $1.sizeOfRawData }))  // SizeOfCode
    headers.append(UInt32(infos.filter { !isCode($0) }.reduce(0) { $0 + $1.sizeOfRawData }))  // SizeOfInitializedData
    headers.append(UInt32(0))  // SizeOfUninitializedData
    headers.append(entry)
    headers.append(infos.first(where: isCode)?.virtualAddress ?? 0)  // BaseOfCode
    if is64 {
      headers.append(imageBase)
    } else {
      headers.append(infos.first(where: { !isCode($0) })?.virtualAddress ?? 0)  // BaseOfData
      headers.append(UInt32(truncatingIfNeeded: imageBase))  // checked ≤ 0xFFFFFFFF above
    }
    headers.append(sectionAlignment)
    headers.append(fileAlignment)
    for word: UInt16 in [10, 0, 10, 0, 10, 0] { headers.append(word) }  // OS, image, subsystem versions
    headers.append(UInt32(0))  // Win32VersionValue
    headers.append(UInt32(sizeOfImage))
    headers.append(UInt32(headersSize))
    let checksumOffset = headers.count
    headers.append(UInt32(0))  // CheckSum, patched below
    headers.append(subsystem)
    headers.append(dllCharacteristics)
    for value: UInt64 in [0x8_0000, 0x1000, 0x10_0000, 0x1000] {  // stack/heap reserve/commit
      if is64 { headers.append(value) } else { headers.append(UInt32(value)) }
    }
    headers.append(UInt32(0))  // LoaderFlags
    headers.append(UInt32(16))  // NumberOfRvaAndSizes
    for index in 0..<16 {
      headers.append(directories[index]?.rva ?? 0)
      headers.append(directories[index]?.size ?? 0)
    }
    for info in infos {
      var name = Array(info.name.utf8)
      name += [UInt8](repeating: 0, count: 8 - name.count)
      headers.append(name)
      headers.append(info.virtualSize)
      headers.append(info.virtualAddress)
      headers.append(info.sizeOfRawData)
      headers.append(info.pointerToRawData)
      headers.appendZeros(12)  // relocations, line numbers and their counts
      headers.append(info.characteristics)
    }
    headers.pad(to: fileAlign)

    // 5. Both layouts.
    var file = headers
    var memory = ByteBuffer(count: sizeOfImage)
    for (section, info) in zip(all, infos) {
      file.put(section.contents, at: Int(info.pointerToRawData))
      file.appendZeros(Int(info.pointerToRawData + info.sizeOfRawData) - file.count)
      memory.put(section.contents, at: Int(info.virtualAddress))
    }
    let checksum = Self.checksum(file.bytes, checksumOffset: checksumOffset)
    file.put(checksum, at: checksumOffset)
    memory.put(file.bytes[0..<headersSize].map { $0 }, at: 0)

    var forwarders: [String: String] = [:]
    for export in exports {
      if let name = export.name, case .forwarder(let text) = export.target { forwarders[name] = text }
    }
    return PEImage(
      memoryLayout: memory.bytes, fileLayout: file.bytes, imageBase: imageBase, sizeOfImage: UInt32(sizeOfImage),
      sizeOfHeaders: UInt32(headersSize), entryPointRVA: entry, sections: infos, exportRVAs: exportResult.named,
      exportOrdinals: exportResult.ordinals, forwarders: forwarders, dataDirectories: directories, codeView: codeView,
      checksum: checksum)
  }

  /// The PE checksum of `bytes` with the checksum field at `checksumOffset` taken as zero.
  static func checksum(_ bytes: [UInt8], checksumOffset: Int) -> UInt32 {
    var sum: UInt64 = 0
    var index = 0
    while index < bytes.count {
      var word = UInt64(bytes[index])
      if index + 1 < bytes.count { word |= UInt64(bytes[index + 1]) << 8 }
      if index < checksumOffset + 4, index + 2 > checksumOffset { word = 0 }
      sum += word
      sum = (sum & 0xFFFF) + (sum >> 16)
      index += 2
    }
    sum = (sum & 0xFFFF) + (sum >> 16)
    return UInt32(truncatingIfNeeded: sum) + UInt32(bytes.count)
  }
}
