// Symbol-server downloads against a local python3 server: fetch, cache hit without a request,
// 404, wrong GUID, truncated body, timeout, redirects, .pd_ cabinets (MSZIP, LZX), offline, and
// hostile PDB names that must never reach the file system or the network.

import Foundation
import Symbols
import TestData
import Testing

@Suite(.serialized) final class StoreServerTests {
  let work: URL
  let cache: URL
  let pdb: (path: String, identity: PDBIdentity)
  let server: StoreTestServer

  init() throws {
    work = try TestData.temporaryDirectory("store")
    cache = work.appendingPathComponent("cache")
    let build = work.appendingPathComponent("build")
    let served = work.appendingPathComponent("served")
    for d in [cache, build, served] {
      try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
    }
    let built = try StoreTestPDBs.shared.get()
    pdb = built.tiny
    let other = built.other
    // The served tree: tiny.pdb/<GUID><AGE>/tiny.pdb, and other.pdb at the root (for /wrong).
    let folder = served.appendingPathComponent("tiny.pdb/\(pdb.identity.symstoreKey)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    try FileManager.default.copyItem(atPath: pdb.path, toPath: folder.appendingPathComponent("tiny.pdb").path)
    try FileManager.default.copyItem(atPath: other.path, toPath: served.appendingPathComponent("other.pdb").path)
    server = try StoreTestServer(root: served)
  }

  deinit {
    server.stop()
    try? FileManager.default.removeItem(at: work)
  }

  func store(_ mode: String, offline: Bool = false, timeout: TimeInterval = 10) -> SymbolStore {
    let path = SymbolPath(
      elements: [.server(url: "\(server.base)/\(mode)", cache: cache.path)], defaultCache: cache.path)
    return SymbolStore(path: path, offline: offline, fetcher: HTTPFetcher(timeout: timeout), showProgress: false)
  }

  var cachedPDB: String { cache.path + "/tiny.pdb/\(pdb.identity.symstoreKey)/tiny.pdb" }

  /// Every regular file under the work folder that is not one the test made itself.
  func filesOutsideCache() -> [String] {
    let all = FileManager.default.enumerator(atPath: work.path)?.compactMap { $0 as? String } ?? []
    return all.filter { rel in
      var isDir: ObjCBool = false
      FileManager.default.fileExists(atPath: work.path + "/" + rel, isDirectory: &isDir)
      return !isDir.boolValue && !rel.hasPrefix("cache/") && !rel.hasPrefix("build/") && !rel.hasPrefix("served/")
    }
  }

  @Test func identityMatchesLLVMPDBUtil() throws {
    let id = try PDBFileIdentity.read(path: pdb.path)
    #expect(id == pdb.identity)
  }

  @Test func fetchThenCacheHitWithoutRequest() throws {
    let s = store("ok")
    let location = try s.download(pdb.identity)
    #expect(location == .pdb(cachedPDB))
    #expect(FileManager.default.contentsEqual(atPath: cachedPDB, andPath: pdb.path))
    #expect(server.requests == ["/ok/tiny.pdb/\(pdb.identity.symstoreKey)/tiny.pdb"])
    // The loader finds the cached copy: no second request.
    let profile = try ProfileLoader.load(
      identity: pdb.identity, symbolPath: s.path, offline: false, openPDB: { try StubPDBProfile(path: $0) }, store: s)
    #expect(profile.symbol("StubOnly")?.provenance == .pdb)
    #expect(server.requests.count == 1)
    #expect(filesOutsideCache().isEmpty)
    // No temporary files are left beside the cached PDB.
    #expect(
      try FileManager.default.contentsOfDirectory(atPath: (cachedPDB as NSString).deletingLastPathComponent) == [
        "tiny.pdb"
      ])
  }

  @Test func loaderDownloadsWhenNothingLocal() throws {
    let s = store("redir")
    let profile = try ProfileLoader.load(
      identity: pdb.identity, symbolPath: s.path, offline: false, openPDB: { try StubPDBProfile(path: $0) }, store: s)
    #expect(profile.identity == pdb.identity)
    #expect(profile.source == .pdb)
    #expect(server.requests.count == 2)  // the redirect and its target
    _ = try ProfileLoader.load(
      identity: pdb.identity, symbolPath: s.path, offline: false, openPDB: { try StubPDBProfile(path: $0) }, store: s)
    #expect(server.requests.count == 2)
  }

  @Test func notFound() throws {
    let missing = PDBIdentity(name: "tiny.pdb", guid: String(repeating: "A", count: 32), age: 1)
    #expect(throws: SymbolsError.self) { try self.store("ok").download(missing) }
    // Both the plain and the compressed name were asked for.
    #expect(server.requests.count == 2)
    #expect(server.requests.last?.hasSuffix("/tiny.pd_") == true)
  }

  @Test func wrongGUIDIsRejectedAndNotCached() throws {
    do {
      _ = try store("wrong").download(pdb.identity)
      Issue.record("a PDB with another GUID was accepted")
    } catch {
      guard case .identityMismatch(_, let expected, _) = error else { return #expect(Bool(false), "\(error)") }
      #expect(expected == pdb.identity)
    }
    #expect(!FileManager.default.fileExists(atPath: cachedPDB))
    let folder = (cachedPDB as NSString).deletingLastPathComponent
    #expect((try? FileManager.default.contentsOfDirectory(atPath: folder))?.isEmpty ?? true)
  }

  @Test func truncatedBodyIsAnError() throws {
    #expect(throws: SymbolsError.self) { try self.store("trunc").download(self.pdb.identity) }
    #expect(!FileManager.default.fileExists(atPath: cachedPDB))
  }

  @Test func slowServerTimesOut() throws {
    let start = Date()
    #expect(throws: SymbolsError.self) { try self.store("slow", timeout: 1).download(self.pdb.identity) }
    #expect(Date().timeIntervalSince(start) < 4.5)
  }

  @Test func redirectLoopIsBounded() throws {
    do {
      _ = try store("loop").download(pdb.identity)
      Issue.record("redirect loop accepted")
    } catch {
      #expect(error.description.contains("redirects"))
    }
    #expect(server.requests.count == 6)  // the request and 5 redirects followed
  }

  @Test func compressedMSZIPAnswer() throws {
    let location = try store("cab").download(pdb.identity)
    #expect(location.path == cachedPDB)
    #expect(FileManager.default.contentsEqual(atPath: cachedPDB, andPath: pdb.path))
  }

  @Test func lzxAnswerIsUnsupported() throws {
    do {
      _ = try store("lzx").download(pdb.identity)
      Issue.record("LZX accepted")
    } catch {
      guard case .unsupported(_, let what) = error else { return #expect(Bool(false), "\(error)") }
      #expect(what.contains("LZX"))
    }
  }

  @Test func offlineMakesNoRequest() throws {
    #expect(throws: SymbolsError.offline(pdb.identity)) {
      try self.store("ok", offline: true).download(self.pdb.identity)
    }
    #expect(server.requests.isEmpty)
  }

  @Test func hostileNamesNeverTouchTheFileSystem() throws {
    let names = [
      "..\\..\\x.pdb", "../../x.pdb", "a/b.pdb", "/etc/passwd", "x\u{0}.pdb",
      String(repeating: "a", count: 4096) + ".pdb",
      "\u{7}bell.pdb", "..", ".", "", "C:\\Windows\\x.pdb", "x.pdb/../../../y.pdb", "nl\n.pdb",
    ]
    let s = store("ok")
    for name in names {
      let id = PDBIdentity(name: name, guid: pdb.identity.guid, age: pdb.identity.age)
      for attempt in 0..<2 {
        do {
          _ = attempt == 0 ? try s.findLocal(id).first : try s.download(id)
          Issue.record("hostile name accepted: \(name.prefix(40))")
        } catch {
          guard case .unsafeName = error else { return #expect(Bool(false), "\(error)") }
        }
      }
    }
    let badGUID = PDBIdentity(name: "tiny.pdb", guid: "../../../../../../../../../../etc", age: 1)
    #expect(throws: SymbolsError.self) { try s.download(badGUID) }
    #expect(server.requests.isEmpty)
    #expect(filesOutsideCache().isEmpty)
    #expect((FileManager.default.enumerator(atPath: cache.path)?.allObjects ?? []).isEmpty)
  }
}
