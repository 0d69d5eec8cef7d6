// Shared helpers of the live tests: the built `callscope` binary, sparse copies of the reference
// images, their truth files, and a page walk of their own over a raw image (Intel SDM vol. 3A
// §4.5, 4-level paging), so the tests find physical addresses without the code under test.

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

  /// A little-endian 64-bit value of `file` at `offset`.
  static func read64(_ fd: Int32, _ offset: UInt64) throws -> UInt64 {
    var value: UInt64 = 0
    guard pread(fd, &value, 8, off_t(offset)) == 8 else { throw TestDataError.tool("pread at \(offset)") }
    return UInt64(littleEndian: value)
  }

  /// Physical address of `va` under the 4-level tables at `dtb` in the raw image `path`.
  static func physical(_ va: UInt64, dtb: UInt64, image path: String) throws -> UInt64 {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { throw TestDataError.tool("open \(path)") }
    defer { close(fd) }
    let frame: UInt64 = 0x000f_ffff_ffff_f000
    var table = dtb & frame
    for (level, shift) in [(4, UInt64(39)), (3, 30), (2, 21), (1, 12)] {
      let entry = try read64(fd, table + ((va >> shift) & 0x1ff) * 8)
      guard entry & 1 != 0 else { throw TestDataError.tool("\(String(va, radix: 16)) not present at level \(level)") }
      if level == 1 || (level < 4 && entry & 0x80 != 0) {
        let pageMask = (UInt64(1) << shift) - 1
        return (entry & frame & ~pageMask) | (va & pageMask)
      }
      table = entry & frame
    }
    throw TestDataError.tool("unreachable")
  }
}
