// Shared helpers of the live tests: the built `callscope` binary, sparse copies of the reference
// images, their truth files, and the tests' own page walk (TestData.physical), so the tests find
// physical addresses without the code under test.

import Foundation
import TestData

#if canImport(Glibc)
  import Glibc
#endif

enum LiveCLI {
  /// The `callscope` executable: `$CALLSCOPE_BINARY` (e.g. a release build, to measure latency),
  /// else the one beside the test bundle or in .build/debug.
  static func binary() throws -> String {
    if let path = ProcessInfo.processInfo.environment["CALLSCOPE_BINARY"] {
      guard FileManager.default.isExecutableFile(atPath: path) else { throw TestDataError.missing(path) }
      return path
    }
    var candidates: [URL] = [Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("callscope")]
    if let argument = CommandLine.arguments.first {
      candidates.append(
        URL(fileURLWithPath: argument).resolvingSymlinksInPath().deletingLastPathComponent()
          .appendingPathComponent("callscope"))
    }
    candidates.append(TestData.packageRoot.appendingPathComponent(".build/debug/callscope"))
    for c in candidates where FileManager.default.isExecutableFile(atPath: c.path) { return c.path }
    throw TestDataError.missing("callscope binary (run `swift build` before `swift test`)")
  }

  /// A writable sparse copy of the reference image `name` in `directory`.
  static func copy(_ name: String, to directory: URL, as file: String = "guest.ram") throws -> String {
    let source = try TestData.decompressed("images/\(name).raw.xz")
    let target = directory.appendingPathComponent(file).path
    let r = try TestData.run("/bin/cp", ["--sparse=always", source, target])
    guard r.status == 0 else { throw TestDataError.tool("cp: \(r.stderr)") }
    return target
  }

  /// The truth file of `name`.
  static func truth(_ name: String) throws -> [String: Any] {
    guard let t = try TestData.json(TestData.shared("images/\(name).truth.json").path) as? [String: Any] else {
      throw TestDataError.tool("truth of \(name) is not an object")
    }
    return t
  }

  /// Physical address of `va` under the 4-level tables at `dtb` in the raw image `path`.
  static func physical(_ va: UInt64, dtb: UInt64, image path: String) throws -> UInt64 {
    try TestData.physical(va, dtb: dtb, image: path)
  }
}
