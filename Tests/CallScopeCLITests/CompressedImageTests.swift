// Compressed images, made by the real command-line tools: xz and gzip are read directly (the
// kernel base and DTB equal the truth's, and the temporary file is gone afterwards); zstd, bzip2,
// zip and 7z stop with exit 2 and a command that, run as printed, gives back the original bytes.

import Foundation
import TestData
import Testing

@Suite(.serialized) struct CompressedImageTests {
  static let clean = "win10-19041-clean"

  /// Runs callscope with TMPDIR set to a fresh directory, which must be empty afterwards.
  func run(_ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> TestData.ProcessResult {
    let tmp = try TestData.temporaryDirectory("tmpdir")
    defer { try? FileManager.default.removeItem(at: tmp) }
    let result = try TestData.run(try CLI.binary(), arguments, environment: ["TMPDIR": tmp.path])
    let left = try FileManager.default.contentsOfDirectory(atPath: tmp.path)
    #expect(left.isEmpty, "temporary files left behind: \(left)", sourceLocation: sourceLocation)
    return result
  }

  func sh(_ command: String, in directory: URL) throws {
    let result = try TestData.run("/bin/sh", ["-c", "cd '\(directory.path)' && \(command)"])
    try #require(result.status == 0, "\(command): \(result.stderr)")
  }

  /// `info --format json` of `path` agrees with the clean image's truth.
  func expectCleanKernel(_ path: String, format: String) throws {
    let result = try run(["info", "--format", "json", path])
    try #require(result.status == 0, "\(result.stderr)")
    let json = try #require(try CLI.json(result.stdout) as? [String: Any])
    let kernel = try #require(json["kernel"] as? [String: Any])
    let truth = try CLI.truth(Self.clean)
    #expect(CLI.number(kernel["base"]) == CLI.number(truth["kernel_base"]))
    #expect(CLI.number(kernel["dtb"]) == CLI.number(truth["dtb"]))
    let image = try #require(json["image"] as? [String: Any])
    #expect(image["format"] as? String == format)
    #expect(image["path"] as? String == path)
  }

  @Test func xzImageIsReadDirectly() throws {
    try expectCleanKernel(TestData.shared("images/\(Self.clean).raw.xz").path, format: "raw+xz")
  }

  @Test func gzipImageIsReadDirectly() throws {
    let dir = try TestData.temporaryDirectory("gzip")
    defer { try? FileManager.default.removeItem(at: dir) }
    try sh("gzip -1 -c '\(try CLI.image(Self.clean))' > image.raw.gz", in: dir)
    try expectCleanKernel(dir.appendingPathComponent("image.raw.gz").path, format: "raw+gzip")
  }

  @Test func truncatedXzImageIsAnError() throws {
    let dir = try TestData.temporaryDirectory("xz-cut")
    defer { try? FileManager.default.removeItem(at: dir) }
    let source = try Data(contentsOf: TestData.shared("images/\(Self.clean).raw.xz"))
    let path = dir.appendingPathComponent("cut.raw.xz").path
    try source.prefix(source.count / 2).write(to: URL(fileURLWithPath: path))
    let result = try run(["info", path])
    #expect(result.status == 2, "\(result.stderr)")
    #expect(result.stdout.isEmpty)
    #expect(result.stderr.contains(path) && result.stderr.contains("truncated"), "\(result.stderr)")
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["cut.raw.xz"])
  }

  @Test func truncatedGzipImageIsAnError() throws {
    let dir = try TestData.temporaryDirectory("gz-cut")
    defer { try? FileManager.default.removeItem(at: dir) }
    try sh("gzip -1 -c '\(try CLI.image(Self.clean))' | head -c 300000 > cut.raw.gz", in: dir)
    let path = dir.appendingPathComponent("cut.raw.gz").path
    let result = try run(["info", path])
    #expect(result.status == 2, "\(result.stderr)")
    #expect(result.stdout.isEmpty)
    #expect(result.stderr.contains(path) && result.stderr.contains("truncated"), "\(result.stderr)")
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["cut.raw.gz"])
  }

  /// 1 MiB of varied bytes: not an image, but enough to check that the printed command restores it.
  static func sample() -> Data {
    var state: UInt64 = 0x1234_5678
    return Data(
      (0..<(1 << 20)).map { _ in
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return UInt8(truncatingIfNeeded: state >> 59)  // small values: compressible
      })
  }

  @Test(arguments: [
    ("zstd", "zstd -q sample.raw -o sample.raw.zst", "sample.raw.zst", "zstd -d "),
    ("bzip2", "bzip2 -k sample.raw", "sample.raw.bz2", "bzip2 -dc "),
    ("zip", "zip -q sample.zip sample.raw", "sample.zip", "unzip "),
  ])
  func otherFormatsStopWithTheCommandThatDecompresses(format: String, make: String, file: String, command: String)
    throws
  {
    let dir = try TestData.temporaryDirectory(format)
    defer { try? FileManager.default.removeItem(at: dir) }
    let original = Self.sample()
    try original.write(to: dir.appendingPathComponent("sample.raw"))
    try sh(make, in: dir)
    try FileManager.default.removeItem(at: dir.appendingPathComponent("sample.raw"))
    let path = dir.appendingPathComponent(file).path
    let result = try run(["info", path])
    #expect(result.status == 2, "\(result.stderr)")
    #expect(result.stdout.isEmpty)
    #expect(result.stderr.contains("\(format)-compressed"), "\(result.stderr)")
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == [file], "nothing else written")
    let lines = result.stderr.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
    let printed = try #require(lines.first { $0.hasPrefix(command) }, "no `\(command)…` in \(result.stderr)")
    try sh(printed, in: dir)
    let restored = try Data(contentsOf: dir.appendingPathComponent("sample.raw"))
    #expect(restored == original, "`\(printed)` did not restore the bytes")
  }

  @Test func sevenZipIsRecognisedBySignature() throws {
    // 7zFormat.txt SignatureHeader: '7z' BC AF 27 1C, version 0.4, then CRCs and the next header.
    let dir = try TestData.temporaryDirectory("7z")
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("image.7z").path
    try Data([0x37, 0x7A, 0xBC, 0xAF, 0x27, 0x1C, 0x00, 0x04] + [UInt8](repeating: 0, count: 24)).write(
      to: URL(fileURLWithPath: path))
    let result = try run(["info", path])
    #expect(result.status == 2)
    #expect(result.stdout.isEmpty)
    #expect(result.stderr.contains("7z-compressed") && result.stderr.contains("7z x '\(path)'"), "\(result.stderr)")
  }
}
