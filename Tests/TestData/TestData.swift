// Shared helpers for tests: where ../shared lives, decompressed copies of its .xz files (made
// once per machine, under a file lock), and running external peers (llvm tools, Volatility 3).

import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Access to the project's reference data and to external tools used as independent oracles.
public enum TestData {
  /// The package root (the folder holding Package.swift).
  public static let packageRoot: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

  /// `../shared` beside the package, or `$CALLSCOPE_SHARED`.
  public static var sharedDir: URL {
    if let env = ProcessInfo.processInfo.environment["CALLSCOPE_SHARED"] { return URL(fileURLWithPath: env) }
    return packageRoot.deletingLastPathComponent().appendingPathComponent("shared")
  }

  /// A file under ../shared.
  public static func shared(_ relative: String) -> URL { sharedDir.appendingPathComponent(relative) }

  /// Where decompressed copies go: `$CALLSCOPE_TESTDATA_CACHE` or a folder under the system temp dir.
  public static var cacheDir: URL {
    if let env = ProcessInfo.processInfo.environment["CALLSCOPE_TESTDATA_CACHE"] { return URL(fileURLWithPath: env) }
    return URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("callscope-testdata")
  }

  /// The path of a decompressed copy of `../shared/<relative>.xz` (e.g. `images/win10-19041-clean.raw.xz`),
  /// made on first use with `xz -dc` (sparse-friendly: zero blocks are not written) and reused after.
  public static func decompressed(_ relative: String) throws -> String {
    let source = shared(relative)
    guard FileManager.default.fileExists(atPath: source.path) else {
      throw TestDataError.missing(source.path)
    }
    let name = (relative as NSString).lastPathComponent
    let outName = name.hasSuffix(".xz") ? String(name.dropLast(3)) : name
    try FileManager.default.createDirectory(at: cacheDir, withIntermediateDirectories: true)
    let out = cacheDir.appendingPathComponent(outName)
    let lockPath = cacheDir.appendingPathComponent(outName + ".lock").path
    let fd = open(lockPath, O_CREAT | O_RDWR, 0o644)
    guard fd >= 0 else { throw TestDataError.tool("cannot create lock \(lockPath)") }
    defer { close(fd) }
    flock(fd, LOCK_EX)
    defer { flock(fd, LOCK_UN) }
    // The copy is reused only while it was made from this very source (the shared images are
    // regenerated from time to time; a stale copy would test old bytes against new truth).
    let attributes = try FileManager.default.attributesOfItem(atPath: source.path)
    let stamp =
      "\((attributes[.size] as? NSNumber)?.int64Value ?? -1) \((attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? -1)"
    let stampPath = out.path + ".source"
    if FileManager.default.fileExists(atPath: out.path),
      (try? String(contentsOfFile: stampPath, encoding: .utf8)) == stamp
    {
      return out.path
    }
    let tmp = out.path + ".part"
    // `xz -d --keep --stdout` to a file via dd conv=sparse keeps zero runs as holes.
    let result = try run("/bin/sh", ["-c", "xz -dc '\(source.path)' | dd of='\(tmp)' bs=1M conv=sparse status=none"])
    guard result.status == 0 else { throw TestDataError.tool("xz failed: \(result.stderr)") }
    guard rename(tmp, out.path) == 0 else { throw TestDataError.tool("rename failed for \(out.path)") }
    try Data(stamp.utf8).write(to: URL(fileURLWithPath: stampPath))
    return out.path
  }

  /// The output of a finished process.
  public struct ProcessResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
    public var stdoutData: Data
  }

  /// Runs `executable` with `arguments`, waiting for it; stdout and stderr captured.
  @discardableResult
  public static func run(
    _ executable: String, _ arguments: [String], environment: [String: String]? = nil, input: Data? = nil
  ) throws -> ProcessResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable.hasPrefix("/") ? executable : try which(executable))
    p.arguments = arguments
    if let environment { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
    let outPipe = Pipe()
    let errPipe = Pipe()
    p.standardOutput = outPipe
    p.standardError = errPipe
    let inPipe = Pipe()
    p.standardInput = input == nil ? FileHandle.nullDevice : inPipe
    try p.run()
    if let input {
      inPipe.fileHandleForWriting.write(input)
      try? inPipe.fileHandleForWriting.close()
    }
    // Read both pipes concurrently so a full stderr pipe cannot block the child.
    nonisolated(unsafe) var errData = Data()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async {
      errData = errPipe.fileHandleForReading.readDataToEndOfFile()
      group.leave()
    }
    let outData = outPipe.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    p.waitUntilExit()
    return ProcessResult(
      status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
      stderr: String(decoding: errData, as: UTF8.self), stdoutData: outData)
  }

  /// The full path of a program on PATH (or in /opt/swift/usr/bin), or an error naming it.
  public static func which(_ tool: String) throws -> String {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    for dir in path.split(separator: ":").map(String.init) + ["/opt/swift/usr/bin", "/usr/local/bin", "/usr/bin"] {
      let candidate = "\(dir)/\(tool)"
      if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    throw TestDataError.missingTool(tool)
  }

  /// Parses a JSON file.
  public static func json(_ path: String) throws -> Any {
    try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
  }

  /// A fresh empty temporary directory.
  public static func temporaryDirectory(_ label: String = "t") throws -> URL {
    let url = URL(fileURLWithPath: NSTemporaryDirectory())
      .appendingPathComponent("callscope-\(label)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
  }

  /// Parses `0x…` strings from truth files.
  public static func hex(_ any: Any?) -> UInt64? {
    guard let s = any as? String else { return (any as? NSNumber)?.uint64Value }
    let t = s.hasPrefix("0x") ? String(s.dropFirst(2)) : s
    return UInt64(t, radix: 16)
  }
}

/// Failures of the test-data helpers (a missing peer is a failure, never a silent skip).
public enum TestDataError: Error, CustomStringConvertible {
  case missing(String)
  case missingTool(String)
  case tool(String)
  public var description: String {
    switch self {
    case .missing(let p): return "test data missing: \(p)"
    case .missingTool(let t): return "required peer tool `\(t)` is not installed (run scripts/install-test-deps)"
    case .tool(let m): return m
    }
  }
}
