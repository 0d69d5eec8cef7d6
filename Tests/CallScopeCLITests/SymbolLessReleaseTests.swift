// Layout lending by release: the clean reference image relabelled (KUSER_SHARED_DATA's
// NtBuildNumber) as an unbundled later build borrows the nearest older bundled release's layouts,
// which must first fit the System process; relabelled as older than any bundled build it stops
// with exit 2 and names the PDB to supply. The kernel's GUID is altered too, so no profile matches.

import Foundation
import TestData
import Testing

@Suite struct SymbolLessReleaseTests {
  /// A copy of the clean image with KUSER_SHARED_DATA.NtBuildNumber = `build` and the RSDS GUID changed.
  static func relabelled(_ build: UInt32, label: String) throws -> String {
    let source = try CLI.image("win10-19041-clean")
    let truth = try CLI.truth("win10-19041-clean")
    let dir = try TestData.temporaryDirectory("release-\(label)")
    let path = dir.appendingPathComponent("relabelled.raw").path
    #expect(try TestData.run("/bin/cp", ["--sparse=always", source, path]).status == 0)
    let file = try #require(FileHandle(forUpdatingAtPath: path))
    defer { try? file.close() }
    // KUSER_SHARED_DATA: NtBuildNumber +0x260 = 19041, NtMajorVersion +0x26c = 10, NtMinorVersion +0x270 = 0.
    let signature: [UInt8] = [0x61, 0x4a, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0x0a, 0, 0, 0]
    let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? UInt64)
    var found = 0
    var page: UInt64 = 0
    while page < size {
      try file.seek(toOffset: page + 0x260)
      if [UInt8](file.readData(ofLength: 16)) == signature {
        try file.seek(toOffset: page + 0x260)
        file.write(Data(withUnsafeBytes(of: build.littleEndian, Array.init)))
        found += 1
      }
      page += 0x1000
    }
    #expect(found >= 1)
    // The RSDS GUID: truth nt_pe.rsds_rva + 4, 16 bytes (mapped with the kernel's large pages).
    let phys = try #require(CLI.number(truth["kernel_phys"]))
    let rsds = try #require(CLI.number((truth["nt_pe"] as? [String: Any])?["rsds_rva"]))
    try file.seek(toOffset: phys + rsds + 4)
    file.write(Data((0..<16).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }))
    return path
  }

  @Test func laterUnbundledReleaseBorrowsTheNearestOlderLayouts() throws {
    let path = try Self.relabelled(19_999, label: "later")
    defer { try? FileManager.default.removeItem(atPath: path) }
    let info = try CLI.run(["info", "--offline", "--format", "json", path])
    #expect(info.status == 0, "\(info.stderr)")
    let json = try #require(try CLI.json(info.stdout) as? [String: Any])
    let symbols = try #require(json["symbols"] as? [String: Any])
    #expect((symbols["layouts"] as? String)?.contains("nearest older release") == true, "\(symbols)")
    #expect((symbols["layouts"] as? String)?.contains("10.0.19041.") == true, "\(symbols)")
    let callbacks = try CLI.run(["callbacks", "--offline", "--format", "json", path])
    #expect(callbacks.status == 0, "\(callbacks.stderr)")
    let rows = (try CLI.json(callbacks.stdout) as? [String: Any])?["callbacks"] as? [Any]
    #expect(rows?.count == (try CLI.truth("win10-19041-clean")["callbacks"] as? [Any])?.count)
  }

  @Test func olderThanEveryBundledBuildNamesThePDBToSupply() throws {
    let path = try Self.relabelled(2_600, label: "older")
    defer { try? FileManager.default.removeItem(atPath: path) }
    let result = try CLI.run(["callbacks", "--offline", path])
    #expect(result.status == 2)
    #expect(result.stdout.isEmpty)
    #expect(result.stderr.contains("ntkrnlmp.pdb"), "\(result.stderr)")
    #expect(result.stderr.contains("--symbols"), "\(result.stderr)")
  }
}
