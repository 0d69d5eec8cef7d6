// PEs built here with clang + lld-link (x64 DLL and EXE, x86 DLL) against llvm-readobj, the PDB's
// own identity (llvm-pdbutil dump -summary), pefile, and the values written in the sources.

import Foundation
import PortableExecutable
import TestData
import Testing

/// The PDB's GUID (as `{3711556A-8F58-…}` → 32 hex digits) and age, from `llvm-pdbutil dump -summary`.
func pdbIdentity(_ pdb: String) throws -> (guid: String, age: UInt64) {
  let result = try TestData.run(try TestData.which("llvm-pdbutil"), ["dump", "-summary", pdb])
  let summary = ReadobjNode.parse(result.stdout)
  let guid = try #require(summary["GUID"]).filter { $0.isHexDigit }
  return (guid, try #require(summary.number("Age")))
}

@Suite struct BuiltPETests {
  @Test func x64DLLMatchesReadobjAndPefile() throws {
    let built = try BuiltPEs.get()
    let image = try openPE(built.dll64)
    #expect(image.is64Bit)
    #expect(image.fileHeader.machine == COFFMachine.amd64)
    try expectMatchesReadobj(image, try readobj(built.dll64, readobjOptions))
    try expectMatchesPefile(image, try PefileReport.run(built.dll64))
  }

  @Test func x86DLLMatchesReadobjAndPefile() throws {
    let built = try BuiltPEs.get()
    let image = try openPE(built.dll32)
    #expect(!image.is64Bit)
    #expect(image.fileHeader.machine == COFFMachine.i386)
    try expectMatchesReadobj(image, try readobj(built.dll32, readobjOptions))
    try expectMatchesPefile(image, try PefileReport.run(built.dll32))
  }

  @Test func x64EXEMatchesReadobjAndPefile() throws {
    let built = try BuiltPEs.get()
    let image = try openPE(built.exe64)
    let report = try PefileReport.run(built.exe64)
    #expect(report.exceptions.count >= 2)  // twice and mainCRTStartup call functions: they have unwind data
    try expectMatchesReadobj(image, try readobj(built.exe64, readobjOptions))
    try expectMatchesPefile(image, report)
    let entry = image.optionalHeader.addressOfEntryPoint
    let function = try #require(try image.runtimeFunction(containing: entry))
    #expect(
      UInt64(function.beginAddress) == report.exceptions.first { $0[0] <= UInt64(entry) && UInt64(entry) < $0[1] }?[0])
  }

  @Test(arguments: ["dll64", "dll32", "exe64"])
  func codeViewMatchesThePDB(_ which: String) throws {
    let built = try BuiltPEs.get()
    let (pe, pdb) =
      switch which {
      case "dll64": (built.dll64, built.pdb64)
      case "dll32": (built.dll32, built.pdb32)
      default: (built.exe64, built.pdbExe64)
      }
    let cv = try #require(try openPE(pe).codeView())
    let identity = try pdbIdentity(pdb)
    #expect(identity.guid.count == 32)
    #expect(cv.guidString == identity.guid)
    #expect(UInt64(cv.age) == identity.age)
    #expect(cv.symbolStoreKey == identity.guid + String(identity.age, radix: 16, uppercase: true))
    #expect(cv.pdbPath == pdb)
    #expect(cv.pdbFileName == (pdb as NSString).lastPathComponent)
  }

  @Test(arguments: ["dll64", "dll32"])
  func exportsAsDeclaredOnTheLinkerCommandLine(_ which: String) throws {
    let built = try BuiltPEs.get()
    let path = which == "dll64" ? built.dll64 : built.dll32
    let image = try openPE(path)
    let exports = try image.exports()
    #expect(exports.dllName == (path as NSString).lastPathComponent)
    // /export:beta,@7 and /export:gamma_,@9,NONAME fix those ordinals; gamma_ has no name.
    #expect(exports.entry(named: "beta")?.ordinal == 7)
    #expect(exports.entry(ordinal: 9)?.name == nil)
    #expect(exports.entry(named: "gamma_") == nil)
    let forwarded = try #require(exports.entry(named: "Fwd"))
    #expect(forwarded.forwarder == BuiltPEs.forwarder)
    let dir = try #require(image.optionalHeader.directory(.export))
    #expect(forwarded.rva >= dir.rva && forwarded.rva < dir.rva + dir.size)
    #expect(exports.entry(named: "alpha")?.forwarder == nil)
    // data_value lives in a writable, non-executable section.
    let data = try #require(exports.entry(named: "data_value"))
    #expect(image.section(containing: data.rva)?.isExecutable == false)
    #expect(image.section(containing: try #require(exports.rva(of: "alpha")))?.isExecutable == true)
    // The forwarder string read back through read(rva:count:).
    let bytes = try image.read(rva: forwarded.rva, count: BuiltPEs.forwarder.utf8.count + 1)
    #expect(bytes == Array(BuiltPEs.forwarder.utf8) + [0])
  }

  @Test(arguments: ["dll64", "dll32"])
  func versionInfoAsWrittenInTheResourceScript(_ which: String) throws {
    let built = try BuiltPEs.get()
    let info = try #require(try openPE(which == "dll64" ? built.dll64 : built.dll32).versionInfo())
    #expect(info.fileVersion?.description == BuiltPEs.fileVersion)
    #expect(info.productVersion?.description == BuiltPEs.productVersion)
    #expect(info.fixed?.fileOS == 0x40004)
    #expect(info.fixed?.fileType == 2)
    #expect(info.stringTables.map(\.key) == ["040904B0"])
    #expect(info.strings == BuiltPEs.versionStrings)
    #expect(info.string("ProductName") == "Odd")
    #expect(info.translations == [0x04B0_0409])  // language 0x409 low word, code page 1200 high word
  }
}
