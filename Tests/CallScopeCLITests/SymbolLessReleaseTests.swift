// Layout lending by release: the clean reference image relabelled (KUSER_SHARED_DATA's
// NtBuildNumber) as an unbundled later build borrows the nearest older bundled release's layouts,
// which must first fit the System process (else the process fields are derived from the data);
// relabelled as older than any bundled build it stops
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

  /// Relabelled 10.0.19000, the nearest older bundled release is 18362, whose EPROCESS differs
  /// (UniqueProcessId 0x2e8, not 0x440): the process fields are derived from the data, equal to the
  /// 19041 ISF's (python over data/isf 3177D3…E374-1: UniqueProcessId 0x440, ActiveProcessLinks
  /// 0x448, ImageFileName 0x5a8, KPROCESS.DirectoryTableBase 0x28), and the processes come out.
  @Test func unbundledReleaseWithMovedFieldsDerivesThem() throws {
    let path = try Self.relabelled(19_000, label: "derived")
    defer { try? FileManager.default.removeItem(atPath: path) }
    let info = try CLI.run(["info", "--offline", "--format", "json", path])
    #expect(info.status == 0, "\(info.stderr)")
    let json = try #require(try CLI.json(info.stdout) as? [String: Any])
    let symbols = try #require(json["symbols"] as? [String: Any])
    #expect((symbols["layouts"] as? String)?.contains("10.0.18362.") == true, "\(symbols)")
    #expect((symbols["layouts"] as? String)?.contains("derived from the data") == true, "\(symbols)")
    let derived = try #require(symbols["derivedFields"] as? [[String: Any]])
    let offsets = Dictionary(
      uniqueKeysWithValues: derived.map { ("\($0["struct"] ?? "").\($0["field"] ?? "")", CLI.number($0["offset"])) })
    #expect(
      offsets == [
        "_EPROCESS.UniqueProcessId": 0x440, "_EPROCESS.ActiveProcessLinks": 0x448, "_EPROCESS.ImageFileName": 0x5a8,
        "_KPROCESS.DirectoryTableBase": 0x28,
      ], "\(derived)")
    let processes = try CLI.run(["processes", "--offline", "--format", "json", path])
    #expect(processes.status == 0, "\(processes.stderr)")
    let rows = try #require((try CLI.json(processes.stdout) as? [String: Any])?["processes"] as? [[String: Any]])
    let truth = try #require(try CLI.truth("win10-19041-clean")["processes"] as? [[String: Any]])
    #expect(rows.map { CLI.number($0["pid"]) } == truth.map { CLI.number($0["pid"]) })
    #expect(rows.map { $0["name"] as? String } == truth.map { $0["name"] as? String })
    #expect(rows.map { CLI.number($0["eprocess"]) } == truth.map { CLI.number($0["eprocess"]) })
  }

  /// Zeroes 8 bytes at virtual `va` of the raw image at `path` (x64 4-level paging from `dtb`,
  /// large pages included), walked by python independently of CallScope's page walker.
  static func zero(_ path: String, va: UInt64, dtb: UInt64) throws {
    let script = """
      import struct, sys
      path, dtb, va = sys.argv[1], int(sys.argv[2], 0), int(sys.argv[3], 0)
      f = open(path, 'r+b')
      def q(pa):
          f.seek(pa); return struct.unpack('<Q', f.read(8))[0]
      table, mask = dtb & ~0xfff, (1 << 52) - 1
      for level, shift in enumerate((39, 30, 21, 12)):
          e = q(table + ((va >> shift) & 0x1ff) * 8)
          assert e & 1, 'not present'
          if level in (1, 2) and e & 0x80:
              pa = (e & mask & ~((1 << shift) - 1)) | (va & ((1 << shift) - 1)); break
          table = e & mask & ~0xfff
      else:
          pa = table | (va & 0xfff)
      f.seek(pa); f.write(bytes(8))
      """
    let result = try TestData.run("/usr/bin/env", ["python3", "-c", script, path, "\(dtb)", "\(va)"])
    #expect(result.status == 0, "\(result.stderr)")
  }

  /// Relabelled 10.0.2600 the nearest older bundled release is 6.3.9600, whose layouts do not fit;
  /// with System's UniqueProcessId zeroed nothing can be derived either, so it stops with exit 2
  /// and names the PDB to supply. (Intact, the process fields are derived and it reads.)
  @Test func olderThanEveryBundledBuildNamesThePDBToSupply() throws {
    let path = try Self.relabelled(2_600, label: "older")
    defer { try? FileManager.default.removeItem(atPath: path) }
    let truth = try CLI.truth("win10-19041-clean")
    let system = try #require((truth["processes"] as? [[String: Any]])?.first.flatMap { CLI.number($0["eprocess"]) })
    // 0x440: _EPROCESS.UniqueProcessId of the 19041 ISF (3177D3…E374-1), read with python.
    try Self.zero(path, va: system + 0x440, dtb: try #require(CLI.number(truth["dtb"])))
    let result = try CLI.run(["callbacks", "--offline", path])
    #expect(result.status == 2)
    #expect(result.stdout.isEmpty)
    #expect(result.stderr.contains("ntkrnlmp.pdb"), "\(result.stderr)")
    #expect(result.stderr.contains("--symbols"), "\(result.stderr)")
    #expect(result.stderr.contains("could not be derived from the data"), "\(result.stderr)")
  }
}
