// Field-by-field comparison with Volatility 3 (`windows.pslist`, `windows.modules`) on the clean
// image. Volatility gets a private symbol folder holding a COPY of the build's ISF (it deletes
// files it considers stale in its symbol folders, so ../shared is never given to it) and a
// persistent cache folder of its own (its ISF validation is what makes a cold run slow).

import Foundation
import TestData
import Testing
import WindowsKernel

enum Volatility {
  /// Runs `vol … -r json -f image plugin` and returns the JSON rows (the banner line is skipped).
  static func rows(_ plugin: String, image: String) throws -> [[String: Any]] {
    let symbols = try TestData.temporaryDirectory("vol-symbols")
    defer { try? FileManager.default.removeItem(at: symbols) }
    let folder = symbols.appendingPathComponent("windows/ntkrnlmp.pdb")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let isf = TestData.shared(ISFOffsets.isf)
    try FileManager.default.copyItem(at: isf, to: folder.appendingPathComponent(isf.lastPathComponent))
    let cache = TestData.cacheDir.appendingPathComponent("volatility-cache-windowskernel")
    try FileManager.default.createDirectory(at: cache, withIntermediateDirectories: true)
    let result = try TestData.run(
      try TestData.which("vol"),
      ["-q", "--offline", "-s", symbols.path, "--cache-path", cache.path, "-r", "json", "-f", image, plugin])
    guard result.status == 0, let start = result.stdoutData.firstIndex(of: UInt8(ascii: "[")) else {
      throw TestDataError.tool("vol \(plugin) failed (\(result.status)): \(result.stderr)")
    }
    let json = try JSONSerialization.jsonObject(with: result.stdoutData[start...])
    return try #require(json as? [[String: Any]], "vol \(plugin) did not print a JSON array")
  }

  /// A JSON integer as UInt64.
  static func integer(_ any: Any?) -> UInt64? { (any as? NSNumber)?.uint64Value }
}

// Serialized: the first run fills Volatility's cache (slow, once), the second reuses it.
@Suite(.serialized) struct VolatilityComparisonTests {
  static let name = "win10-19041-clean"

  @Test func processesMatchVolatilityPslist() throws {
    let fixture = try KernelFixture.image(Self.name)
    let rows = try Volatility.rows("windows.pslist", image: fixture.path)
    let (processes, warnings) = try ProcessList.read(fixture.kernel)
    #expect(warnings.isEmpty)
    #expect(rows.count == 15)
    #expect(processes.count == rows.count)
    for (process, row) in zip(processes, rows) {
      #expect(process.pid == Volatility.integer(row["PID"]))
      #expect(process.ppid == Volatility.integer(row["PPID"]))
      #expect(process.name == row["ImageFileName"] as? String)
      // Volatility prints kernel addresses cut to 48 bits.
      #expect(process.eprocess & 0xffff_ffff_ffff == Volatility.integer(row["Offset(V)"]))
    }
  }

  @Test func modulesMatchVolatilityModules() throws {
    let fixture = try KernelFixture.image(Self.name)
    let rows = try Volatility.rows("windows.modules", image: fixture.path)
    let (modules, warnings) = try ModuleList.read(fixture.kernel)
    #expect(warnings.isEmpty)
    #expect(rows.count == 16)
    #expect(modules.count == rows.count)
    for (module, row) in zip(modules, rows) {
      #expect(module.name == row["Name"] as? String)
      #expect(module.base & 0xffff_ffff_ffff == Volatility.integer(row["Base"]))
      #expect(module.size == Volatility.integer(row["Size"]))
      #expect(module.path == row["Path"] as? String)
      #expect(module.entry & 0xffff_ffff_ffff == Volatility.integer(row["Offset"]))
    }
  }
}
