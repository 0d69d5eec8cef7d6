// Test helper: runs the library path `callscope callbacks [--carve]` takes (CallbackAnalysis, as
// Sources/callscope/CallbacksCommand.swift calls it) on one reference image, once per test process.

import Analysis
import Callbacks
import Foundation
import MemoryImage
import Symbols
import TestData
import WindowsKernel

/// The callbacks layer's output and its verdicts for one image.
struct ImageScan: Sendable {
  let path: String
  let kernel: Kernel
  let results: [FamilyResult]
  let modules: [LoadedModule]
  let hidden: [LoadedModule]
  let verdicts: CallbackVerdicts
  /// The carving outcome, when the scan carved.
  let carved: CallbackCarver.Outcome?
  /// Unflagged entries of the table families, left out of the rows.
  let asExpected: [String: Int]

  /// Opens `path` and scans it like the command line does; `build` is the truth file's build number.
  init(path: String, build: Int, carve: Bool) throws {
    let memory = try MemoryImageOpener.open(path: path)
    let system = try KernelDiscovery.discover(memory: memory)
    guard let image = system.kernel else {
      throw TestDataError.tool("\(path): kernel not found: \(String(describing: system.kernelError))")
    }
    let profile = try ProfileLoader.load(
      identity: image.pdb, symbolPath: SymbolPath.resolve(symbols: [], environment: [:]), offline: true,
      openPDB: { try PDBProfile(path: $0) })
    let kernel = Kernel(space: system.space, image: image, profile: profile)
    let analysis = CallbackAnalysis(kernel: kernel, build: build, carve: carve)
    self.path = path
    self.kernel = kernel
    self.results = analysis.results
    self.modules = analysis.modules
    self.hidden = analysis.hidden
    self.verdicts = analysis.verdicts
    self.carved = analysis.carved
    self.asExpected = analysis.asExpected
  }

  /// The result of one family.
  func family(_ id: String) -> FamilyResult? { results.first { $0.family == id } }

  /// Rows of one family.
  func rows(_ family: String) -> [CallbackRow] { verdicts.rows.filter { $0.entry.family == family } }
}

/// Scans each reference image at most once per process (tests run in parallel and share them).
actor ScanCache {
  static let shared = ScanCache()
  private var tasks: [String: Task<ImageScan, any Error>] = [:]

  /// The scan of `images/win10-19041-<name>.raw`, with or without carving.
  func scan(_ name: String, carve: Bool = false) async throws -> ImageScan {
    let key = "\(name)|\(carve)"
    if let task = tasks[key] { return try await task.value }
    let task = Task {
      let truth = try await TruthCache.shared.truth(name)
      return try await offPool {
        let path = try TestData.decompressed("images/win10-19041-\(name).raw.xz")
        return try ImageScan(path: path, build: truth.buildNumber, carve: carve)
      }
    }
    tasks[key] = task
    return try await task.value
  }
}

/// Parses each truth file once per process.
actor TruthCache {
  static let shared = TruthCache()
  private var truths: [String: Truth] = [:]

  /// `images/win10-19041-<name>.truth.json`.
  func truth(_ name: String) throws -> Truth {
    if let truth = truths[name] { return truth }
    let truth = try Truth(path: TestData.shared("images/win10-19041-\(name).truth.json").path)
    truths[name] = truth
    return truth
  }
}

/// Runs blocking work (a scan, a peer process) on a Dispatch thread, so the few threads of Swift's
/// cooperative pool stay free for the tests that wait on it.
func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
  try await withCheckedThrowingContinuation { continuation in
    DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
  }
}
