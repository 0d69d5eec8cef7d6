// The synthetic ntoskrnl.exe: a PEBuilder description with the sections, exports, debug record and
// version resource of a Windows x64 kernel, filled with seeded bytes. Section names and the
// characteristic export names follow a real ntoskrnl.exe (as listed by `llvm-readobj --sections`).

enum KernelImageTemplate {
  /// The kernel image for `configuration`, loaded at `base`.
  /// With `configuration.exportCode`, also the export code written (ExportCodeWriter).
  static func kernel(base: UInt64, configuration: WindowsImageConfiguration, random: inout SeededGenerator) throws
    -> (pe: PEBuilder, exportCode: [ExportCodeRecord])
  {
    var textCode = random.bytes(0x1_0000)
    // A few recognisable function bodies: `sub rsp,28h … add rsp,28h; ret`.
    let prologue: [UInt8] = [0x48, 0x83, 0xEC, 0x28, 0x33, 0xC0, 0x48, 0x83, 0xC4, 0x28, 0xC3]
    for offset in stride(from: 0, to: 0x400, by: 0x100) {
      textCode.replaceSubrange(offset..<(offset + prologue.count), with: prologue)
    }
    let build = UInt32(configuration.version.count > 2 ? configuration.version[2] : 0)
    var data = ByteBuffer(count: 0x100)
    data.put(UInt32(0xF000_0000) | build, at: 0x10)  // NtBuildNumber: free build flag | build
    var pe = PEBuilder(
      machine: .amd64, imageBase: base,
      sections: [
        .init(name: ".text", characteristics: PEBuilder.Section.code, contents: textCode, virtualSize: 0x17_F000),
        .init(
          name: "PAGE", characteristics: PEBuilder.Section.code, contents: random.bytes(0x8000), virtualSize: 0x8_0000),
        .init(
          name: ".rdata", characteristics: PEBuilder.Section.readOnlyData, contents: Array("ntoskrnl synthetic".utf8)),
        .init(
          name: ".data", characteristics: PEBuilder.Section.readWriteData, contents: data.bytes, virtualSize: 0x1_0000),
        .init(
          name: "INIT", characteristics: PEBuilder.Section.discardableCode, contents: prologue + random.bytes(0x800)),
      ])
    pe.exportName = "ntoskrnl.exe"
    pe.entryPoint = .init(section: "INIT", offset: 0)
    func at(_ section: String, _ offset: Int) -> PEBuilder.Export.Target {
      .location(.init(section: section, offset: offset))
    }
    pe.exports = [
      .init(name: "KeBugCheckEx", target: at(".text", 0x000)),
      .init(name: "ExAllocatePoolWithTag", target: at(".text", 0x100)),
      .init(name: "KeRegisterBugCheckCallback", target: at(".text", 0x200)),
      .init(name: "ObRegisterCallbacks", target: at(".text", 0x300)),
      .init(name: "PsSetCreateProcessNotifyRoutine", target: at("PAGE", 0x40)),
      .init(name: "RtlGetVersion", target: at("PAGE", 0x80)),
      .init(name: "NtBuildNumber", target: at(".data", 0x10)),
      .init(name: "PsLoadedModuleList", target: at(".data", 0x20)),
      .init(name: "KdDebuggerEnabled", target: at(".data", 0x30)),
    ]
    // Placed in .text here; sizeLikeBuild moves each to the build's RVA.
    for name in configuration.codeExports where !pe.exports.contains(where: { $0.name == name }) {
      pe.exports.append(.init(name: name, target: at(".text", 0x000)))
    }
    pe.functions = (0..<4).map { .init(section: ".text", start: $0 * 0x100, end: $0 * 0x100 + prologue.count) }
    pe.codeView = try .init(pdbName: configuration.pdbName, storeGUID: configuration.pdbGUID, age: configuration.pdbAge)
    let versionText = configuration.versionString
    var exportCode: [ExportCodeRecord] = []
    if let facts = configuration.kernelBuild {
      try sizeLikeBuild(&pe, facts: facts, build: build)
      if configuration.exportCode {
        exportCode = try ExportCodeWriter.write(into: &pe, facts: facts, build: Int(build), seed: configuration.seed)
      }
    }
    pe.versionInfo = .init(
      fileVersion: configuration.version,
      strings: [
        ("CompanyName", "Microsoft Corporation"), ("FileDescription", "NT Kernel & System"),
        ("FileVersion", "\(versionText) (WinBuild.160101.0800)"), ("InternalName", "ntkrnlmp.exe"),
        ("OriginalFilename", "ntkrnlmp.exe"), ("ProductName", "Microsoft® Windows® Operating System"),
        ("ProductVersion", versionText),
      ])
    return (pe, exportCode)
  }

  /// A small driver that is not the kernel (a decoy for kernel scanners, or a module for later tests).
  static func driver(name: String, base: UInt64, random: inout SeededGenerator) throws -> PEBuilder {
    var pe = PEBuilder(
      machine: .amd64, imageBase: base,
      sections: [
        .init(name: ".text", characteristics: PEBuilder.Section.code, contents: random.bytes(0x1800)),
        .init(name: ".rdata", characteristics: PEBuilder.Section.readOnlyData, contents: Array(name.utf8)),
        .init(name: ".data", characteristics: PEBuilder.Section.readWriteData, contents: random.bytes(0x40)),
        .init(name: "INIT", characteristics: PEBuilder.Section.discardableCode, contents: [0x33, 0xC0, 0xC3]),
      ])
    pe.characteristics = 0x0022
    pe.entryPoint = .init(section: "INIT", offset: 0)
    let stem = name.split(separator: ".").first.map(String.init) ?? name
    pe.codeView = .init(pdbName: stem + ".pdb", guid: random.bytes(16), age: 1)
    pe.versionInfo = .init(
      fileVersion: [1, 0, 0, 1], strings: [("FileVersion", "1.0.0.1"), ("OriginalFilename", name)])
    return pe
  }
}
