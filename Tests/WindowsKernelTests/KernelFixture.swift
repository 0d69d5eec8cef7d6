// Shared test support: opens a reference image of ../shared/images the way the CLI does
// (MemoryImageOpener → KernelDiscovery → ProfileLoader offline → Kernel), caches the result per
// image, reads its truth file, and reads ISF offsets independently (xz + python3) for patching.

import AddressSpace
import Foundation
import MemoryImage
import Symbols
import TestData
import Testing
import WindowsKernel

/// A reference image opened to its kernel.
struct KernelFixture: Sendable {
  let path: String
  let memory: any PhysicalMemory
  let system: DiscoveredSystem
  let kernel: Kernel

  /// The five reference images.
  static let imageNames = [
    "win10-19041-clean", "win10-19041-rootkit", "win10-19041-kct-hijack", "win10-19041-corrupt-proc-loop",
    "win10-19041-corrupt-reg-dangling",
  ]

  nonisolated(unsafe) private static var cache: [String: KernelFixture] = [:]
  private static let lock = NSLock()

  /// The reference image `name` (e.g. `win10-19041-clean`), opened once per test process.
  static func image(_ name: String) throws -> KernelFixture {
    let path = try TestData.decompressed("images/\(name).raw.xz")
    lock.lock()
    defer { lock.unlock() }
    if let cached = cache[path] { return cached }
    let fixture = try open(path: path)
    cache[path] = fixture
    return fixture
  }

  /// Opens any image file (e.g. a patched copy) exactly as the CLI does, without caching.
  static func open(path: String, options: DiscoveryOptions = DiscoveryOptions()) throws -> KernelFixture {
    let memory = try MemoryImageOpener.open(path: path)
    let system = try KernelDiscovery.discover(memory: memory, options: options)
    let image = try #require(system.kernel, "no kernel found in \(path): \(String(describing: system.kernelError))")
    let profile = try ProfileLoader.load(
      identity: image.pdb, symbolPath: try SymbolPath.resolve(symbols: [], environment: [:]), offline: true,
      openPDB: { try PDBProfile(path: $0) })
    return KernelFixture(
      path: path, memory: memory, system: system, kernel: Kernel(space: system.space, image: image, profile: profile))
  }

  /// The truth file of image `name`.
  static func truth(_ name: String) throws -> Truth {
    let object = try TestData.json(TestData.shared("images/\(name).truth.json").path)
    return Truth(try #require(object as? [String: Any], "truth of \(name) is not an object"))
  }
}

/// A truth file's JSON, with small typed accessors.
struct Truth {
  let json: [String: Any]
  init(_ json: [String: Any]) { self.json = json }

  subscript(key: String) -> Any? { json[key] }

  /// `key` as an object.
  func object(_ key: String) throws -> [String: Any] {
    try #require(json[key] as? [String: Any], "truth has no object \(key)")
  }

  /// `key` as an array of objects.
  func rows(_ key: String) throws -> [[String: Any]] {
    try #require(json[key] as? [[String: Any]], "truth has no array \(key)")
  }

  /// `key` as a `0x…` address.
  func address(_ key: String) throws -> UInt64 {
    try #require(TestData.hex(json[key]), "truth has no address \(key)")
  }

  /// The process named `name`.
  func process(named name: String) throws -> [String: Any] {
    try #require(try rows("processes").first { $0["name"] as? String == name }, "truth has no process \(name)")
  }

  /// A kernel symbol's address from `symbols_used`.
  func symbol(_ name: String) throws -> UInt64 {
    try #require(TestData.hex(try object("symbols_used")[name]), "truth has no symbol \(name)")
  }
}

/// `struct.field` offsets of the build's ISF, read with xz and python3 (independent of our code).
enum ISFOffsets {
  static let isf = "data/isf/ntkrnlmp.pdb/3177D31000BA7590DED335936C93E374-1.json.xz"

  /// The fields the tests patch, in one python run.
  static let fields: [(String, String)] = [
    ("_KLDR_DATA_TABLE_ENTRY", "InLoadOrderLinks"), ("_KLDR_DATA_TABLE_ENTRY", "BaseDllName"),
    ("_LIST_ENTRY", "Flink"), ("_LIST_ENTRY", "Blink"), ("_EPROCESS", "UniqueProcessId"),
    ("_EPROCESS", "ActiveProcessLinks"), ("_EPROCESS", "Peb"), ("_PEB", "Ldr"), ("_PEB", "KernelCallbackTable"),
    ("_PEB_LDR_DATA", "InLoadOrderModuleList"), ("_LDR_DATA_TABLE_ENTRY", "InLoadOrderLinks"),
    ("_OBJECT_DIRECTORY", "HashBuckets"), ("_OBJECT_DIRECTORY_ENTRY", "ChainLink"),
    ("_OBJECT_DIRECTORY_ENTRY", "Object"), ("_UNICODE_STRING", "Length"), ("_UNICODE_STRING", "MaximumLength"),
    ("_UNICODE_STRING", "Buffer"), ("_MMVAD_SHORT", "StartingVpn"), ("_MMVAD_SHORT", "EndingVpn"),
  ]

  nonisolated(unsafe) private static var cached: [String: UInt64]?
  private static let lock = NSLock()

  /// Offset of `field` in `structName`.
  static func offset(_ structName: String, _ field: String) throws -> UInt64 {
    lock.lock()
    defer { lock.unlock() }
    if cached == nil {
      let wanted = fields.map { "d['user_types']['\($0.0)']['fields']['\($0.1)']['offset']" }.joined(separator: ",")
      let script = "import json,sys; d=json.load(sys.stdin); print(*[\(wanted)])"
      let r = try TestData.run("/bin/sh", ["-c", "xz -dc '\(TestData.shared(isf).path)' | python3 -c \"\(script)\""])
      guard r.status == 0 else { throw TestDataError.tool("ISF read failed: \(r.stderr)") }
      let values = r.stdout.split(whereSeparator: \.isWhitespace).compactMap { UInt64($0) }
      guard values.count == fields.count else { throw TestDataError.tool("ISF read gave \(r.stdout)") }
      var table: [String: UInt64] = [:]
      for (f, v) in zip(fields, values) { table["\(f.0).\(f.1)"] = v }
      cached = table
    }
    return try #require(cached?["\(structName).\(field)"], "\(structName).\(field) not among ISFOffsets.fields")
  }
}

/// A patched copy of a raw reference image (raw file offset = physical address).
struct PatchedImage {
  let path: String
  let directory: URL

  /// A sparse copy of the decompressed image `name`.
  init(copying name: String) throws {
    let source = try TestData.decompressed("images/\(name).raw.xz")
    directory = try TestData.temporaryDirectory("kmodel")
    path = directory.appendingPathComponent("\(name)-patched.raw").path
    let r = try TestData.run("/bin/cp", ["--sparse=always", source, path])
    guard r.status == 0 else { throw TestDataError.tool("cp failed: \(r.stderr)") }
  }

  /// Writes `value` little-endian at physical address `physical`.
  func write(_ value: UInt64, width: Int = 8, at physical: UInt64) throws {
    let bytes = (0..<width).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    defer { try? handle.close() }
    try handle.seek(toOffset: physical)
    try handle.write(contentsOf: Data(bytes))
  }

  /// Writes `value` at the kernel virtual address `va` of the clean image's address space `space`.
  func write(_ value: UInt64, width: Int = 8, atVirtual va: UInt64, in space: VirtualAddressSpace) throws {
    try write(value, width: width, at: try space.translateUncached(va).physical)
  }

  /// Deletes the copy.
  func remove() { try? FileManager.default.removeItem(at: directory) }
}

/// Reads a little-endian value at a physical address of a raw image file (for test mechanics).
func readPhysical(_ memory: any PhysicalMemory, _ address: UInt64) throws -> UInt64 {
  let bytes = try memory.read(at: address, count: 8)
  return bytes.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
}
