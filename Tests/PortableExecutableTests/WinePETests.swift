// Wine's real PE files (ntoskrnl.exe, user32.dll, ntdll.dll from Debian's libwine) against
// llvm-readobj (headers, sections, exports, debug directory) and python pefile (version resource,
// function table, checksum), in the file layout and in the mapped layout pefile produces.

import PortableExecutable
import Testing

@Suite struct WinePETests {
  @Test(arguments: Wine.files)
  func fileLayoutMatchesReadobj(_ name: String) throws {
    let path = Wine.path(name)
    let report = try readobj(path, readobjOptions)
    // Guard the text parser: these files have many sections and hundreds of exports.
    #expect(report.all("Section").count >= 12)
    #expect(report.all("Export").count >= 700)
    try expectMatchesReadobj(try openPE(path), report)
  }

  @Test(arguments: Wine.files)
  func fileLayoutMatchesPefile(_ name: String) throws {
    let path = Wine.path(name)
    let image = try openPE(path)
    let report = try PefileReport.run(path)
    #expect(!report.exceptions.isEmpty)
    #expect(report.fileVersion != nil)
    #expect(report.strings["040904B0"]?["ProductName"] == "Wine")
    try expectMatchesPefile(image, report)
  }

  @Test(arguments: Wine.files)
  func mappedLayoutMatchesTheSameOracles(_ name: String) throws {
    let path = Wine.path(name)
    let image = try mappedPE(path)
    // The COFF string table holding long section names ("/4") lies outside the mapped image.
    try expectMatchesReadobj(image, try readobj(path, readobjOptions), resolvesLongNames: false)
    try expectMatchesPefile(image, try PefileReport.run(path))
  }

  @Test(arguments: Wine.files)
  func exportsAgreeWithPefileIncludingForwarders(_ name: String) throws {
    let path = Wine.path(name)
    let ours = try openPE(path).exports().entries
    // pefile lists named exports in name-table order, then the ordinal-only ones: compare by ordinal.
    let theirs = try PefileReport.run(path).exports.filter { $0.rva != 0 || $0.name != nil }
      .sorted { $0.ordinal < $1.ordinal }
    #expect(ours.count == theirs.count)
    #expect(ours.map { UInt64($0.ordinal) } == theirs.map(\.ordinal))
    #expect(ours.map(\.name) == theirs.map(\.name))
    #expect(ours.map { UInt64($0.rva) } == theirs.map(\.rva))
    #expect(ours.map(\.forwarder) == theirs.map(\.forwarder))
  }
}
