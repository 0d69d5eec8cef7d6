// The mapped layout with pages missing, as in a memory image: each directory fails on its own with
// `.unavailable` when a page it needs is gone, and the others still give the oracle's values.

import Foundation
import PortableExecutable
import Testing

/// Expects `error` to be `.unavailable` for a range that touches the page at `page`.
func expectUnavailable(_ error: PEError?, page: UInt64, sourceLocation: SourceLocation = #_sourceLocation) {
  guard case .unavailable(_, let offset, let count, _, let reason) = error else {
    Issue.record("expected .unavailable, got \(String(describing: error))", sourceLocation: sourceLocation)
    return
  }
  #expect(offset < page + 0x1000 && offset + count > page, sourceLocation: sourceLocation)
  #expect(reason.contains("not in the memory image"), sourceLocation: sourceLocation)
}

@Suite struct MappedLayoutTests {
  /// The page holding `rva`.
  func page(_ rva: UInt64?) throws -> UInt64 { try #require(rva) & ~0xFFF }

  @Test func missingFunctionTablePageFailsOnlyTheFunctionTable() throws {
    let path = Wine.path("ntdll.dll")
    let report = try readobj(path, ["--file-headers"])
    let exceptionPage = try page(report.first("DataDirectory")?.number("ExceptionTableRVA"))
    let image = try mappedPE(path, missingPages: [exceptionPage >> 12])
    let error = #expect(throws: PEError.self) { try image.exceptionDirectory() }
    expectUnavailable(error, page: exceptionPage)
    // Exports and the version resource live elsewhere and still match the file.
    let file = try openPE(path)
    #expect(try image.exports() == file.exports())
    #expect(try image.versionInfo() == file.versionInfo())
    #expect(try image.exports().entries.count >= 700)
  }

  @Test func missingExportPageFailsOnlyTheExports() throws {
    let path = Wine.path("ntdll.dll")
    let report = try readobj(path, ["--file-headers"])
    let exportPage = try page(report.first("DataDirectory")?.number("ExportTableRVA"))
    let image = try mappedPE(path, missingPages: [exportPage >> 12])
    let error = #expect(throws: PEError.self) { try image.exports() }
    expectUnavailable(error, page: exportPage)
    let pefile = try PefileReport.run(path)
    #expect(try image.exceptionDirectory().count == pefile.exceptions.count)
    #expect(try image.versionInfo()?.fileVersion?.description == pefile.fileVersion)
  }

  @Test func missingResourcePageFailsOnlyTheVersionInfo() throws {
    let built = try BuiltPEs.get()
    let report = try readobj(built.dll64, ["--file-headers", "--coff-debug-directory"])
    let resourcePage = try page(report.first("DataDirectory")?.number("ResourceTableRVA"))
    let exportPage = try page(report.first("DataDirectory")?.number("ExportTableRVA"))
    #expect(resourcePage != exportPage)
    let image = try mappedPE(built.dll64, missingPages: [resourcePage >> 12])
    let error = #expect(throws: PEError.self) { try image.versionInfo() }
    expectUnavailable(error, page: resourcePage)
    let file = try openPE(built.dll64)
    #expect(try image.exports() == file.exports())
    #expect(try image.exports().entry(named: "Fwd")?.forwarder == BuiltPEs.forwarder)
    #expect(try image.codeView() == file.codeView())
    #expect(try image.codeView()?.guid == readobjBytes(report.first("PDBInfo")?["PDBGUID"] ?? ""))
  }

  @Test func missingDebugPageFailsTheCodeViewButNotTheResources() throws {
    let built = try BuiltPEs.get()
    let report = try readobj(built.dll64, ["--file-headers", "--coff-debug-directory"])
    let debugPage = try page(report.first("DataDirectory")?.number("DebugRVA"))
    let image = try mappedPE(built.dll64, missingPages: [debugPage >> 12])
    expectUnavailable(#expect(throws: PEError.self) { try image.codeView() }, page: debugPage)
    expectUnavailable(#expect(throws: PEError.self) { try image.debugDirectory() }, page: debugPage)
    #expect(try image.versionInfo()?.fileVersion?.description == BuiltPEs.fileVersion)
  }

  @Test func missingHeaderPageFailsTheImage() throws {
    let built = try BuiltPEs.get()
    let error = #expect(throws: PEError.self) { try mappedPE(built.dll64, missingPages: [0]) }
    expectUnavailable(error, page: 0)
  }

  @Test func readByRVAAgreesBetweenLayouts() throws {
    let path = Wine.path("user32.dll")
    let file = try openPE(path)
    let mapped = try mappedPE(path)
    for section in file.sections where section.sizeOfRawData > 0 {
      let count = Int(min(section.virtualSize, 0x300))
      let rva = section.virtualAddress
      #expect(try file.read(rva: rva, count: count) == mapped.read(rva: rva, count: count))
      // The last bytes of the section's memory span: raw data then the zero fill.
      let tail = rva + max(section.virtualSize, section.sizeOfRawData) - 16
      #expect(try file.read(rva: tail, count: 16) == mapped.read(rva: tail, count: 16))
    }
    #expect(try file.read(rva: 0, count: 0x200) == mapped.read(rva: 0, count: 0x200))
  }
}
