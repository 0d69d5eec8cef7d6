// The composite profile and the loader: lookup order and per-answer provenance, with an ISF
// file on the symbol path, the bundled profile, and nothing at all (offline).

import Foundation
import Symbols
import TestData
import Testing

@Suite struct CompositeProfileTests {
  static func sampleISF() throws -> ISFProfile { try ISFProfile(path: try ISFOracle.allFiles()[5]) }

  @Test func answersCarryTheirOwnProvenance() throws {
    let isf = try Self.sampleISF()
    let bundled = try #require(try BundledProfiles.shipped().profile(for: isf.identity))
    let c = CompositeProfile(identity: isf.identity, profiles: [bundled, isf])
    // A catalog symbol comes from the bundle; one outside the catalog from the ISF file.
    #expect(c.symbol("PsActiveProcessHead")?.provenance == .bundled)
    #expect(c.symbol("PsActiveProcessHead")?.rva == isf.symbol("PsActiveProcessHead")?.rva)
    #expect(c.symbol("KiSystemStartup")?.provenance == .isf)
    #expect(c.field("_EPROCESS", "ActiveProcessLinks")?.provenance == .bundled)
    #expect(c.field("_KSEMAPHORE", "Limit")?.provenance == .isf)  // _KSEMAPHORE is outside the catalog
    #expect(c.symbol("NoSuchSymbol") == nil)
    #expect(c.source == .bundled)
  }

  @Test func loaderUsesSymbolPathThenBundled() throws {
    let isf = try Self.sampleISF()
    let path = SymbolPath(elements: [.directory(TestData.shared("data/isf").path)], defaultCache: "/nonexistent")
    let c = try ProfileLoader.load(
      identity: isf.identity, symbolPath: path, offline: true, openPDB: { try StubPDBProfile(path: $0) })
    #expect(c.profiles.count == 2)
    #expect(c.source == .isf)
    #expect(c.symbol("PsActiveProcessHead")?.provenance == .isf)
    #expect(c.profiles.last?.source == .bundled)
  }

  @Test func loaderFallsBackToBundledOffline() throws {
    let isf = try Self.sampleISF()
    let empty = SymbolPath(elements: [], defaultCache: "/nonexistent")
    let c = try ProfileLoader.load(
      identity: isf.identity, symbolPath: empty, offline: true, openPDB: { try StubPDBProfile(path: $0) })
    #expect(c.source == .bundled)
    #expect(c.symbol("PspCreateProcessNotifyRoutine")?.rva == isf.symbol("PspCreateProcessNotifyRoutine")?.rva)
  }

  @Test func unknownBuildOfflineIsAnError() throws {
    let id = PDBIdentity(name: "ntkrnlmp.pdb", guid: String(repeating: "B", count: 32), age: 3)
    let path = SymbolPath(elements: [.server(url: "http://127.0.0.1:9", cache: nil)], defaultCache: "/nonexistent")
    #expect(throws: SymbolsError.offline(id)) {
      try ProfileLoader.load(identity: id, symbolPath: path, offline: true, openPDB: { try StubPDBProfile(path: $0) })
    }
  }

  @Test func wrongISFOnThePathIsSkipped() throws {
    let files = try ISFOracle.allFiles()
    let wanted = try ISFProfile(path: files[1]).identity
    let path = SymbolPath(elements: [.file(files[0])], defaultCache: "/nonexistent")
    let c = try ProfileLoader.load(
      identity: wanted, symbolPath: path, offline: true, openPDB: { try StubPDBProfile(path: $0) })
    #expect(c.source == .bundled)
    #expect(c.notes.contains { $0.contains("skipped") })
  }
}
