// Small builders for synthetic image files (crash dumps, ELF cores, LiME, VMware state) and
// helpers shared by the MemoryImage tests.

import Foundation
import MemoryImage
import TestData

#if canImport(Glibc)
  import Glibc
#endif

/// Little-endian byte buffer with writes at fixed offsets.
struct Bytes {
  var data: [UInt8]
  init(count: Int, fill: UInt8 = 0) { data = [UInt8](repeating: fill, count: count) }
  mutating func put<T: FixedWidthInteger>(_ value: T, at offset: Int) {
    if data.count < offset + MemoryLayout<T>.size {
      data += [UInt8](repeating: 0, count: offset + MemoryLayout<T>.size - data.count)
    }
    withUnsafeBytes(of: value.littleEndian) { data.replaceSubrange(offset..<(offset + $0.count), with: $0) }
  }
  mutating func put(_ bytes: [UInt8], at offset: Int) {
    if data.count < offset + bytes.count { data += [UInt8](repeating: 0, count: offset + bytes.count - data.count) }
    data.replaceSubrange(offset..<(offset + bytes.count), with: bytes)
  }
  mutating func append(_ bytes: [UInt8]) { data += bytes }
}

enum Fixtures {
  /// Writes `bytes` to a new file named `name` in a fresh temporary directory.
  static func write(_ bytes: [UInt8], name: String = "image.bin") throws -> String {
    let dir = try TestData.temporaryDirectory("memimg")
    let url = dir.appendingPathComponent(name)
    try Data(bytes).write(to: url)
    return url.path
  }

  /// A page whose bytes encode its physical page number (and a per-file salt), so misplaced pages show.
  static func page(_ pfn: UInt64, salt: UInt8 = 0x5A, size: Int = 0x1000) -> [UInt8] {
    (0..<size).map { i in UInt8(truncatingIfNeeded: (pfn &* 131) &+ UInt64(i) &* 7) ^ salt }
  }

  static func sameBytes(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    return a.withUnsafeBytes { x in
      b.withUnsafeBytes { y in
        guard let xp = x.baseAddress, let yp = y.baseAddress else { return x.count == 0 }
        return memcmp(xp, yp, x.count) == 0
      }
    }
  }

  /// The full path of `tool` on PATH. (TestData.which as of the skeleton misses PATH entries such as
  /// ~/.pyenv/shims and finds /usr/bin/python3 without kdmp_parser; reported to the lead.)
  static func tool(_ tool: String) throws -> String {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
    for dir in path.split(separator: ":").map(String.init) {
      let candidate = dir + "/" + tool
      if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return try TestData.which(tool)
  }

  /// Runs a Python snippet with `arguments`, returning its stdout parsed as JSON.
  static func python(_ script: String, _ arguments: [String]) throws -> [String: Any] {
    let result = try TestData.run(try tool("python3"), ["-c", script] + arguments)
    guard result.status == 0 else { throw TestDataError.tool("python failed: \(result.stderr)") }
    guard let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] else {
      throw TestDataError.tool("python printed no JSON object: \(result.stdout)")
    }
    return json
  }
}
