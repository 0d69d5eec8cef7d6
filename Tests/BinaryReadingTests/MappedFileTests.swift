// MappedFile on real files: reads equal the bytes written, bounds are checked, empty files map to
// an empty source, and unopenable paths give an error naming the path.

import BinaryReading
import Foundation
import TestData
import Testing

@Suite struct MappedFileTests {
  @Test func readsWhatWasWritten() throws {
    let dir = try TestData.temporaryDirectory("mapped")
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("f.bin").path
    let bytes: [UInt8] = (0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 7) }
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    let file = try MappedFile(path: path)
    #expect(file.size == 8192)
    #expect(try file.readBytes(at: 4090, count: 12) == Array(bytes[4090..<4102]))
    #expect(
      try file.loadLE(UInt32.self, at: 8188) == UInt32(bytes[8188]) | UInt32(bytes[8189]) << 8
        | UInt32(bytes[8190]) << 16 | UInt32(bytes[8191]) << 24)
    #expect(throws: BinaryReadError.self) { try file.loadLE(UInt32.self, at: 8189) }
    #expect(throws: BinaryReadError.self) { try file.readBytes(at: UInt64.max - 1, count: 4) }
    #expect(throws: BinaryReadError.self) { try file.readBytes(at: 0, count: -1) }
  }

  @Test func emptyFileAndMissingFile() throws {
    let dir = try TestData.temporaryDirectory("mapped")
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("empty").path
    FileManager.default.createFile(atPath: path, contents: Data())
    let file = try MappedFile(path: path)
    #expect(file.size == 0)
    #expect(try file.readBytes(at: 0, count: 0) == [])
    #expect(throws: BinaryReadError.self) { try file.loadLE(UInt8.self, at: 0) }
    #expect {
      _ = try MappedFile(path: dir.appendingPathComponent("missing").path)
    } throws: { error in
      (error as? BinaryReadError)?.description.contains("missing") == true
    }
    #expect(throws: BinaryReadError.self) { _ = try MappedFile(path: dir.path) }  // a directory
  }
}
