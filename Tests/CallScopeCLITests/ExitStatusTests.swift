// Exit status 2 with a message naming the file and offset (or the paging level) for unreadable input
// and bad usage; status 1 with --fail-on-findings on the rootkit image, 0 on the clean one.

import Foundation
import TestData
import Testing

struct ExitStatusTests {
  func expectFailure(_ arguments: [String], mentions: [String], sourceLocation: SourceLocation = #_sourceLocation)
    throws
  {
    let result = try CLI.run(arguments)
    #expect(result.status == 2, "exit \(result.status): \(result.stderr)", sourceLocation: sourceLocation)
    #expect(result.stdout.isEmpty, "\(result.stdout)", sourceLocation: sourceLocation)
    for text in mentions {
      #expect(result.stderr.contains(text), "\(result.stderr) lacks \(text)", sourceLocation: sourceLocation)
    }
  }

  @Test func nonexistentFile() throws {
    let path = try TestData.temporaryDirectory("cli").appendingPathComponent("absent.raw").path
    try expectFailure(["info", path], mentions: [path, "No such file"])
  }

  @Test func emptyFile() throws {
    let path = try TestData.temporaryDirectory("cli").appendingPathComponent("empty.raw").path
    try Data().write(to: URL(fileURLWithPath: path))
    try expectFailure(["info", path], mentions: [path, "offset 0x0", "empty"])
  }

  @Test func truncatedCrashDumpHeader() throws {
    // A 64-bit crash dump starts with 'PAGE' 'DU64' and a 0x2000-byte DUMP_HEADER64 (wdm.h / kdmp-parser).
    let path = try TestData.temporaryDirectory("cli").appendingPathComponent("short.dmp").path
    try Data(Array("PAGEDU64".utf8) + [UInt8](repeating: 0, count: 0x64)).write(to: URL(fileURLWithPath: path))
    try expectFailure(["info", path], mentions: [path, "offset 0x0", "0x6c", "DUMP_HEADER64"])
  }

  @Test func readOfUnmappedVirtualAddressNamesTheLevel() throws {
    let path = try CLI.image("win10-19041-clean")
    // User half of the System address space: the clean truth's PML4 has no user-half entry.
    try expectFailure(["read", path, "--va", "0x1000"], mentions: ["0x1000", "PML4E", "not present"])
  }

  @Test func badPagingValue() throws {
    let path = try CLI.image("win10-19041-clean")
    try expectFailure(["info", path, "--paging", "x64-6level"], mentions: ["x64-6level", "--paging"])
  }

  @Test func failOnFindingsExitsOneOnRootkitAndZeroOnClean() throws {
    let rootkit = try CLI.run(["callbacks", "--offline", "--fail-on-findings", try CLI.image("win10-19041-rootkit")])
    #expect(rootkit.status == 1, "\(rootkit.stderr)")
    #expect(rootkit.stdout.contains("outside-modules"))
    let clean = try CLI.run(["callbacks", "--offline", "--fail-on-findings", try CLI.image("win10-19041-clean")])
    #expect(clean.status == 0, "\(clean.stderr)")
  }
}
