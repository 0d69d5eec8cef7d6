// PEBuilder output read back by independent tools: llvm-readobj (headers, sections, exports, debug
// directory, unwind data) and python pefile (version resource, checksum, memory layout).

import Foundation
import ImageBuilder
import Testing

struct PEBuilderTests {
  static let guid = "3177D31000BA7590DED335936C93E374"

  static func sample(machine: PEBuilder.Machine = .amd64) throws -> PEBuilder {
    var pe = PEBuilder(
      machine: machine, imageBase: machine == .amd64 ? 0x1_4000_0000 : 0x40_0000,
      sections: [
        .init(name: ".text", characteristics: PEBuilder.Section.code, contents: [UInt8](repeating: 0xCC, count: 0x300)),
        .init(name: ".rdata", characteristics: PEBuilder.Section.readOnlyData, contents: Array("hello".utf8)),
        .init(
          name: ".data", characteristics: PEBuilder.Section.readWriteData, contents: [1, 2, 3, 4], virtualSize: 0x2000),
        .init(name: "PAGE", characteristics: PEBuilder.Section.code, contents: [UInt8](repeating: 0x90, count: 0x40)),
        .init(name: "INIT", characteristics: PEBuilder.Section.discardableCode, contents: [0xC3]),
      ])
    pe.exportName = "sample.sys"
    pe.entryPoint = .init(section: "INIT", offset: 0)
    pe.exports = [
      .init(name: "ZwAlpha", target: .location(.init(section: ".text", offset: 0x10))),
      .init(name: "KeBeta", ordinal: 5, target: .location(.init(section: "PAGE", offset: 0x20))),
      .init(name: "RtlForwarded", target: .forwarder("NTDLL.RtlSomething")),
      .init(name: nil, ordinal: 9, target: .location(.init(section: ".text", offset: 0x40))),
    ]
    pe.codeView = try .init(pdbName: "sample.pdb", storeGUID: guid, age: 3)
    pe.versionInfo = .init(
      fileVersion: [10, 0, 19041, 1415],
      strings: [
        ("FileVersion", "10.0.19041.1415 (WinBuild.160101.0800)"), ("ProductVersion", "10.0.19041.1415"),
        ("OriginalFilename", "sample.sys"),
      ])
    if machine == .amd64 {
      pe.functions = [.init(section: ".text", start: 0x10, end: 0x30), .init(section: ".text", start: 0x40, end: 0x48)]
    }
    return pe
  }

  @Test func llvmReadobjReadsHeadersSectionsExportsAndDebugDirectory() throws {
    let image = try Self.sample().build()
    let path = try Oracles.temporaryFile(image.fileLayout, name: "sample.sys")
    let out = try Oracles.readobj(["--file-headers", "--sections", "--coff-exports", "--coff-debug-directory"], path)
    #expect(out.contains("Format: COFF-x86-64"))
    #expect(out.contains("Machine: IMAGE_FILE_MACHINE_AMD64 (0x8664)"))
    #expect(out.contains("ImageBase: 0x140000000"))
    for name in [".text", ".rdata", ".data", "PAGE", "INIT", ".pdata", ".rsrc"] {
      #expect(out.contains("Name: \(name) ("), "section \(name)")
    }
    // Planted sizes: .text 0x300 bytes at the first section slot; .data has a 0x2000-byte virtual size.
    #expect(out.contains("Name: .text (2E 74 65 78 74 00 00 00)\n    VirtualSize: 0x300\n    VirtualAddress: 0x1000"))
    #expect(out.contains("Name: .data (2E 64 61 74 61 00 00 00)\n    VirtualSize: 0x2000\n"))
    #expect(out.contains("Characteristics [ (0x62000020)"))  // INIT: code, discardable
    // Exports as llvm-readobj lists them: ordinal, name, RVA.
    // .text is the first section at RVA 0x1000 (section alignment 0x1000, headers < 0x1000).
    #expect(out.contains("Ordinal: 1\n  Name: ZwAlpha\n  RVA: 0x1010"))
    #expect(out.contains("Ordinal: 5\n  Name: KeBeta\n"))
    #expect(out.contains("Name: RtlForwarded\n"))
    #expect(out.contains("Ordinal: 9\n  Name: \n  RVA: 0x1040"))
    // CodeView record: the GUID bytes as stored, age, PDB name.
    #expect(Oracles.storeGUID(fromReadobj: out) == Self.guid)
    #expect(out.contains("PDBAge: 3"))
    #expect(out.contains("PDBFileName: sample.pdb"))
  }

  @Test func llvmReadobjReadsExceptionData() throws {
    let image = try Self.sample().build()
    let path = try Oracles.temporaryFile(image.fileLayout, name: "unwind.sys")
    let out = try Oracles.readobj(["--unwind"], path)
    #expect(out.contains("StartAddress: (0x140001010)") || out.contains("StartAddress: 0x140001010"), "\(out)")
    #expect(out.contains("EndAddress: (0x140001030)") || out.contains("EndAddress: 0x140001030"))
    #expect(out.components(separatedBy: "RuntimeFunction {").count == 3)
  }

  @Test func pefileReadsVersionResourceChecksumAndMemoryLayout() throws {
    let image = try Self.sample().build()
    let filePath = try Oracles.temporaryFile(image.fileLayout, name: "v.sys")
    let memPath = try Oracles.temporaryFile(image.memoryLayout, name: "v.mem")
    let script = """
      import pefile, json, sys
      pe = pefile.PE(sys.argv[1])
      ffi = pe.VS_FIXEDFILEINFO[0]
      strings = {}
      for fi in pe.FileInfo[0]:
          if fi.Key == b'StringFileInfo':
              for st in fi.StringTable:
                  strings.update({k.decode(): v.decode() for k, v in st.entries.items()})
      mem = pe.get_memory_mapped_image()
      own = open(sys.argv[2], 'rb').read()
      print(json.dumps({'ms': ffi.FileVersionMS, 'ls': ffi.FileVersionLS, 'sig': ffi.Signature,
        'strings': strings, 'checksum_ok': pe.verify_checksum(), 'warnings': [w for w in pe.get_warnings() if not w.startswith('Byte 0x00 makes up')],
        'memory_equal': mem[:len(own)] == own[:len(mem)], 'exports': {e.name.decode(): e.address for e in pe.DIRECTORY_ENTRY_EXPORT.symbols if e.name},
        'forwarders': {e.name.decode(): e.forwarder.decode() for e in pe.DIRECTORY_ENTRY_EXPORT.symbols if e.forwarder}}))
      """
    let json = try #require(try Oracles.python(script, [filePath, memPath]) as? [String: Any])
    #expect(json["sig"] as? Int == 0xFEEF_04BD)
    #expect(json["ms"] as? Int == 10 << 16 | 0)
    #expect(json["ls"] as? Int == 19041 << 16 | 1415)
    let strings = try #require(json["strings"] as? [String: String])
    #expect(strings["FileVersion"] == "10.0.19041.1415 (WinBuild.160101.0800)")
    #expect(strings["ProductVersion"] == "10.0.19041.1415")
    #expect(strings["OriginalFilename"] == "sample.sys")
    #expect(json["checksum_ok"] as? Bool == true)
    #expect(json["memory_equal"] as? Bool == true)
    #expect((json["warnings"] as? [Any])?.isEmpty == true, "\(json["warnings"] ?? "")")
    let exports = try #require(json["exports"] as? [String: Int])
    #expect(exports["ZwAlpha"] == 0x1010)
    #expect((json["forwarders"] as? [String: String])?["RtlForwarded"] == "NTDLL.RtlSomething")
  }

  @Test func pe32IsReadByLlvmReadobj() throws {
    let image = try Self.sample(machine: .i386).build()
    let path = try Oracles.temporaryFile(image.fileLayout, name: "x86.sys")
    let out = try Oracles.readobj(["--file-headers", "--coff-exports", "--coff-debug-directory"], path)
    #expect(out.contains("Format: COFF-i386"))
    #expect(out.contains("Magic: 0x10B"))
    #expect(out.contains("ImageBase: 0x400000"))
    #expect(out.contains("Name: ZwAlpha"))
    #expect(Oracles.storeGUID(fromReadobj: out) == Self.guid)
  }

  @Test func rejectsBadDescriptions() throws {
    var long = try Self.sample()
    long.sections.append(.init(name: ".waytoolong", characteristics: 0, contents: []))
    #expect(throws: ImageBuilderError.self) { try long.build() }
    var pdata32 = try Self.sample(machine: .i386)
    pdata32.functions = [.init(section: ".text", start: 0, end: 4)]
    #expect(throws: ImageBuilderError.self) { try pdata32.build() }
    var badTarget = try Self.sample()
    badTarget.exports.append(.init(name: "Nowhere", target: .location(.init(section: ".nope", offset: 0))))
    #expect(throws: ImageBuilderError.self) { try badTarget.build() }
    #expect(throws: ImageBuilderError.self) { try PEBuilder.CodeView(pdbName: "x.pdb", storeGUID: "12", age: 1) }
  }

  @Test func duplicateExportNamesThrow() throws {
    var pe = try Self.sample()
    pe.exports.append(.init(name: "ZwAlpha", target: .location(.init(section: ".text", offset: 0))))
    #expect(throws: ImageBuilderError.invalid("duplicate export names")) { try pe.build() }
  }

  @Test func emptyFunctionRangeThrows() throws {
    var pe = try Self.sample()
    pe.functions = [.init(section: ".text", start: 0x20, end: 0x20)]
    #expect(throws: ImageBuilderError.self) { try pe.build() }
  }

  @Test func ordinalBelowBaseThrows() throws {
    var pe = try Self.sample()
    pe.ordinalBase = 10
    #expect(throws: ImageBuilderError.self) { try pe.build() }  // KeBeta has ordinal 5
  }

  @Test func exportOffsetPastSectionThrows() throws {
    var pe = try Self.sample()
    pe.exports.append(.init(name: "TooFar", target: .location(.init(section: ".text", offset: 0x301))))
    #expect(throws: ImageBuilderError.self) { try pe.build() }
  }
}
