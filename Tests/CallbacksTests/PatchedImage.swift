// Test helper: the clean reference image, its truth, and patched copies of it (raw images map file
// offset = physical address, so a patch at a kernel VA is written at the VA's translation).

import AddressSpace
import Callbacks
import Foundation
import MemoryImage
import Symbols
import TestData
import WindowsKernel

/// A callback of the clean image's truth file (../shared/images/win10-19041-clean.truth.json).
struct PlantedCallback: Sendable {
  var family: String
  var function: UInt64
  var headVA: UInt64
  var objectVA: UInt64?
  var slot: Int?
}

/// What one scan of an image gives.
struct CallbackScan: Sendable {
  let kernel: Kernel
  let results: [FamilyResult]
  let memory: any PhysicalMemory

  /// Scans `path` like `callscope callbacks` does (Sources/callscope/CallbacksCommand.swift).
  init(path: String, build: Int) throws {
    let memory = try MemoryImageOpener.open(path: path)
    let system = try KernelDiscovery.discover(memory: memory)
    guard let image = system.kernel else { throw TestDataError.tool("\(path): kernel not found") }
    let profile = try ProfileLoader.load(
      identity: image.pdb, symbolPath: SymbolPath.resolve(symbols: [], environment: [:]), offline: true,
      openPDB: { try PDBProfile(path: $0) })
    kernel = Kernel(space: system.space, image: image, profile: profile)
    results = CallbackScanner.scan(CallbackContext(kernel: kernel, build: build))
    self.memory = memory
  }

  func family(_ id: String) -> FamilyResult? { results.first { $0.family == id } }

  /// Routines per family (located families only).
  var routines: [String: [UInt64]] {
    results.filter { $0.notLocated == nil }.reduce(into: [:]) {
      $0[$1.family, default: []] += $1.entries.map(\.routine)
    }
  }
}

/// The clean image, its truth and a scan of it, loaded once per test process.
struct CleanImage: Sendable {
  let path: String
  let build: Int
  let callbacks: [PlantedCallback]
  let scan: CallbackScan

  static let shared = Result { try CleanImage() }

  /// The shared instance (throws if the image or truth cannot be read).
  static func get() throws -> CleanImage { try shared.get() }

  private init() throws {
    path = try TestData.decompressed("images/win10-19041-clean.raw.xz")
    let truthPath = TestData.shared("images/win10-19041-clean.truth.json").path
    guard let top = try TestData.json(truthPath) as? [String: Any], let build = top["build"] as? String,
      let callbacks = top["callbacks"] as? [[String: Any]]
    else { throw TestDataError.tool("\(truthPath): unexpected shape") }
    let parts = build.split(separator: ".")
    guard parts.count >= 3, let number = Int(parts[2]) else { throw TestDataError.tool("build \(build)") }
    self.build = number
    self.callbacks = callbacks.compactMap { c in
      guard let family = c["callscope_family"] as? String, let function = TestData.hex(c["function"]),
        let head = TestData.hex(c["head_va"])
      else { return nil }
      return PlantedCallback(
        family: family, function: function, headVA: head, objectVA: TestData.hex(c["object_va"]),
        slot: (c["slot"] as? NSNumber)?.intValue)
    }
    scan = try CallbackScan(path: path, build: number)
  }

  /// Planted callbacks of one family, in truth order.
  func planted(_ family: String) -> [PlantedCallback] { callbacks.filter { $0.family == family } }

  /// Planted routines per family.
  var plantedRoutines: [String: [UInt64]] {
    callbacks.reduce(into: [:]) { $0[$1.family, default: []].append($1.function) }
  }

  /// The physical address (= file offset) of a kernel VA of the clean image.
  func physical(_ va: UInt64) throws -> UInt64 { try scan.kernel.space.translate(va).physical }

  /// A copy of the clean image (sparse) with `patches` written at the translations of their VAs.
  func patchedCopy(_ label: String, _ patches: [(va: UInt64, bytes: [UInt8])]) throws -> String {
    let dir = try TestData.temporaryDirectory("cbtests-\(label)")
    let copy = dir.appendingPathComponent("patched.raw").path
    let cp = try TestData.run("cp", ["--sparse=always", path, copy])
    guard cp.status == 0 else { throw TestDataError.tool("cp failed: \(cp.stderr)") }
    let handle = try FileHandle(forUpdating: URL(fileURLWithPath: copy))
    defer { try? handle.close() }
    for patch in patches {
      try handle.seek(toOffset: try physical(patch.va))
      try handle.write(contentsOf: Data(patch.bytes))
    }
    return copy
  }

  /// Little-endian bytes of a 64-bit value.
  static func le64(_ value: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
  static func le32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
}
