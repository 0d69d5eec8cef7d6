// Side by side with Volatility 3 (`windows.callbacks`, offline, with the build's ISF): every routine
// Volatility reports, CallScope reports too; each known difference is spelled out below (see
// ../shared/images/README.md, "Where Volatility 3 2.28.2 differs").

import Analysis
import Callbacks
import Foundation
import TestData
import Testing
import WindowsKernel

#if canImport(Glibc)
  import Glibc
#endif

/// One row of `vol -r json windows.callbacks`.
struct VolatilityCallback: Sendable {
  var type: String
  /// The routine as Volatility prints it: cut to 48 bits.
  var callback: UInt64
  var module: String?
  var detail: String?
}

/// Runs Volatility 3 once per image per test process.
actor VolatilityRunner {
  static let shared = VolatilityRunner()
  private var tasks: [String: Task<[VolatilityCallback], any Error>] = [:]

  static let isf = "ntkrnlmp.pdb/3177D31000BA7590DED335936C93E374-1.json.xz"

  /// `windows.callbacks` of `images/win10-19041-<name>.raw`.
  func callbacks(_ name: String) async throws -> [VolatilityCallback] {
    if let task = tasks[name] { return try await task.value }
    let task = Task { try await offPool { try Self.run(name) } }
    tasks[name] = task
    return try await task.value
  }

  /// A private symbols folder (Volatility may delete files in the folder it is given, so it never
  /// sees ../shared) and a private cache, both kept between runs so the ISF is indexed only once.
  static func privateDirectories(_ name: String) throws -> (symbols: String, cache: String) {
    let root = TestData.cacheDir.appendingPathComponent("analysis-tests-volatility")
    let symbols = root.appendingPathComponent("symbols-\(name)")
    let cache = root.appendingPathComponent("cache-\(name)")
    let folder = symbols.appendingPathComponent("windows/ntkrnlmp.pdb")
    let file = symbols.appendingPathComponent("windows/" + isf)
    let source = TestData.shared("data/isf/" + isf)
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    try FileManager.default.createDirectory(at: cache, withIntermediateDirectories: true)
    let sourceSize = try FileManager.default.attributesOfItem(atPath: source.path)[.size] as? Int
    let copySize = (try? FileManager.default.attributesOfItem(atPath: file.path))?[.size] as? Int
    if copySize != sourceSize {
      try? FileManager.default.removeItem(at: file)
      try FileManager.default.copyItem(at: source, to: file)
    }
    return (symbols.path, cache.path)
  }

  static func run(_ name: String) throws -> [VolatilityCallback] {
    try json(name, plugin: "windows.callbacks").compactMap { row in
      guard let type = row["Type"] as? String, let callback = (row["Callback"] as? NSNumber)?.uint64Value else {
        return nil
      }
      return VolatilityCallback(
        type: type, callback: callback, module: row["Module"] as? String, detail: row["Detail"] as? String)
    }
  }

  /// The rows `vol -r json <plugin>` prints for `images/win10-19041-<name>.raw`.
  static func json(_ name: String, plugin: String) throws -> [[String: Any]] {
    let image = try TestData.decompressed("images/win10-19041-\(name).raw.xz")
    // Test processes of several checkouts may share these folders: one Volatility run at a time each.
    try FileManager.default.createDirectory(at: TestData.cacheDir, withIntermediateDirectories: true)
    let lockPath = TestData.cacheDir.appendingPathComponent("analysis-tests-volatility-\(name).lock").path
    let lock = open(lockPath, O_CREAT | O_RDWR, 0o644)
    guard lock >= 0 else { throw TestDataError.tool("cannot create \(lockPath)") }
    defer { close(lock) }
    flock(lock, LOCK_EX)
    defer { flock(lock, LOCK_UN) }
    let (symbols, cache) = try privateDirectories(name)
    let result = try TestData.run(
      try TestData.which("vol"),
      ["-q", "--offline", "-s", symbols, "--cache-path", cache, "-r", "json", "-f", image, plugin])
    guard result.status == 0 else { throw TestDataError.tool("vol \(plugin) failed on \(name): \(result.stderr)") }
    // A banner line may precede the JSON.
    guard let start = result.stdoutData.firstIndex(of: UInt8(ascii: "[")) else {
      throw TestDataError.tool("vol printed no JSON for \(name): \(result.stdout.prefix(200))")
    }
    guard let rows = try JSONSerialization.jsonObject(with: result.stdoutData[start...]) as? [[String: Any]] else {
      throw TestDataError.tool("vol output for \(name) is not a list")
    }
    return rows
  }
}

@Suite struct VolatilityComparisonTests {
  /// Volatility's `Type` column → the CallScope families it can stand for. Volatility prints normal
  /// and last-chance shutdown entries the same way; `GenericKernelCallback` is its `Cbrb` pool
  /// carve of EX_CALLBACK_ROUTINE_BLOCKs (the notify arrays' blocks).
  static let families: [String: Set<String>] = [
    "PspCreateProcessNotifyRoutine": ["process-notify"], "PspCreateThreadNotifyRoutine": ["thread-notify"],
    "PspLoadImageNotifyRoutine": ["image-notify"], "KeBugCheckCallbackListHead": ["bugcheck"],
    "KeBugCheckReasonCallbackListHead": ["bugcheck-reason"], "CmRegisterCallbackEx": ["registry"],
    "IoRegisterShutdownNotification": ["shutdown", "last-chance-shutdown"],
    "IoRegisterFsRegistrationChange": ["fs-registration"], "DbgSetDebugPrintCallback": ["debug-print"],
    "GenericKernelCallback": ["process-notify", "thread-notify", "image-notify"],
  ]

  /// Volatility prints kernel addresses cut to 48 bits.
  static let low48: UInt64 = 0xffff_ffff_ffff

  @Test(arguments: ["clean", "rootkit"])
  func everyVolatilityRoutineIsReported(_ name: String) async throws {
    let vol = try await VolatilityRunner.shared.callbacks(name)
    let scan = try await ScanCache.shared.scan(name)
    let carved = try await ScanCache.shared.scan(name, carve: true)
    let truth = try await TruthCache.shared.truth(name)
    #expect(vol.count >= 30, "\(name): Volatility found only \(vol.count) rows")
    let zeroed = Set(truth.callbacks.filter { $0.anomalies.contains("slot_zeroed_count_kept") }.map(\.function))
    for v in vol {
      let families = try #require(Self.families[v.type], "\(name): unknown Volatility type \(v.type)")
      var rows = scan.verdicts.rows.filter {
        families.contains($0.entry.family) && $0.entry.routine & Self.low48 == v.callback
      }
      if rows.isEmpty, v.type == "GenericKernelCallback" {
        // Volatility's Cbrb carve lists blocks whether linked or not, so the block of the slot the
        // rootkit zeroed shows up there; CallScope shows it only when carving (as an orphan).
        rows = carved.verdicts.rows.filter {
          $0.entry.family == "notify-block" && $0.entry.routine & Self.low48 == v.callback
        }
        #expect(rows.allSatisfy { zeroed.contains($0.entry.routine) }, "\(name): orphan \(v.callback)")
      }
      #expect(!rows.isEmpty, "\(name): Volatility's \(v.type) \(TestData.hexString(v.callback)) missing")
      // The owner: Volatility names the module without its extension, and none for memory outside
      // PsLoadedModuleList (CallScope owns the unlinked driver's routines through its driver object).
      for row in rows {
        if let module = v.module {
          #expect(row.owner.map { $0.module.name.lowercased().hasPrefix(module.lowercased() + ".") } == true)
        } else {
          #expect(row.owner == nil || row.owner?.module.origin != .loadedModuleList)
        }
      }
      if v.type == "CmRegisterCallbackEx", let detail = v.detail, detail.hasPrefix("Altitude: ") {
        #expect(rows.contains { $0.entry.detail("altitude") == .string(String(detail.dropFirst(10))) })
      }
      if v.type == "IoRegisterShutdownNotification", let detail = v.detail {
        #expect(rows.contains { $0.entry.detail("driverName") == .string(detail) })
      }
    }
  }

  @Test(arguments: ["clean", "rootkit"])
  func volatilityMissesOnlyWhatItCannotRead(_ name: String) async throws {
    let vol = try await VolatilityRunner.shared.callbacks(name)
    let scan = try await ScanCache.shared.scan(name)
    let seen = Set(vol.map { "\($0.type) \($0.callback)" })
    let covered = Set(Self.families.values.flatMap { $0 })
    for row in scan.verdicts.rows where covered.contains(row.entry.family) {
      let routine = row.entry.routine & Self.low48
      let types = Self.families.filter { $0.value.contains(row.entry.family) && $0.key != "GenericKernelCallback" }.keys
      let found = types.contains { seen.contains("\($0) \(routine)") }
      if row.entry.family == "image-notify", let index = row.entry.index, index >= 8 {
        // Volatility reads 8 image-notify slots; its Cbrb carve still sees the block.
        #expect(!found, "\(name): Volatility now reads image-notify slot \(index)")
        #expect(seen.contains("GenericKernelCallback \(routine)"))
      } else {
        #expect(found, "\(name): Volatility lacks \(row.entry.family) \(TestData.hexString(row.entry.routine))")
      }
    }
  }
}
