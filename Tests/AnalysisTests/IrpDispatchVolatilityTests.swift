// The irp-dispatch family side by side with Volatility 3's `windows.driverirp` (offline, with the
// build's ISF) on the reference images: Volatility lists all 28 MajorFunction slots of every
// driver object; CallScope lists the same routines except the slots holding
// nt!IopInvalidDeviceRequest (the I/O manager's default, never a row), with the same owners.

import Analysis
import Callbacks
import Foundation
import TestData
import Testing

/// One row of `vol -r json windows.driverirp`.
struct VolatilityDriverIRP: Sendable, Hashable {
  var driver: String
  var irp: String
  /// Cut to 48 bits, as Volatility prints kernel addresses.
  var address: UInt64
  var module: String?
  var symbol: String?
}

@Suite struct IrpDispatchVolatilityTests {
  static let low48: UInt64 = 0xffff_ffff_ffff

  static func volatility(_ name: String) async throws -> [VolatilityDriverIRP] {
    try await offPool {
      try VolatilityRunner.json(name, plugin: "windows.driverirp").compactMap { row in
        guard let driver = row["Driver Name"] as? String, let irp = row["IRP"] as? String,
          let address = (row["Address"] as? NSNumber)?.uint64Value
        else { return nil }
        return VolatilityDriverIRP(
          driver: driver, irp: irp, address: address, module: row["Module"] as? String,
          symbol: row["Symbol"] as? String)
      }
    }
  }

  @Test(arguments: ["clean", "rootkit"])
  func majorFunctionsAgreeWithVolatility(_ name: String) async throws {
    let vol = try await Self.volatility(name)
    let scan = try await ScanCache.shared.scan(name)
    // Asked for by name, the family lists every entry (by default only flagged ones).
    let analysis = CallbackAnalysis(kernel: scan.kernel, build: 19041, selection: ["irp-dispatch"])
    #expect(scan.rows("irp-dispatch").isEmpty, "unflagged dispatch rows are not listed by default")
    #expect(scan.asExpected["irp-dispatch"] == analysis.verdicts.rows.count)
    let drivers = Set(vol.map(\.driver))
    #expect(drivers.count >= 10, "\(name): Volatility saw \(drivers.count) driver objects")
    #expect(vol.count == drivers.count * 28)
    let defaults = vol.filter { $0.symbol == "IopInvalidDeviceRequest" }
    let defaultAddresses = Set(defaults.map(\.address))
    #expect(defaultAddresses.count == 1, "IopInvalidDeviceRequest at \(defaultAddresses)")
    let expected = Set(
      vol.filter { $0.symbol != "IopInvalidDeviceRequest" }.map { "\($0.driver) \($0.irp) \($0.address)" })
    #expect(!expected.isEmpty)
    let rows = analysis.verdicts.rows.filter {
      if case .string(let slot) = $0.entry.detail("slot") { return slot.hasPrefix("IRP_MJ_") }
      return false
    }
    var reported = Set<String>()
    for row in rows {
      guard case .string(let driverName) = row.entry.detail("driverName"),
        case .string(let slot) = row.entry.detail("slot")
      else {
        Issue.record("\(name): row without driverName/slot: \(row.entry)")
        continue
      }
      let short = driverName.split(separator: "\\").last.map(String.init) ?? driverName
      reported.insert("\(short) \(slot) \(row.entry.routine & Self.low48)")
      #expect(!defaultAddresses.contains(row.entry.routine & Self.low48), "a default slot became a row: \(slot)")
      #expect(row.entry.index.map { IrpDispatchReader.majorFunctionNames[$0] } == slot)
    }
    #expect(
      reported == expected,
      "\(name): only CallScope \(reported.subtracting(expected)), only Volatility \(expected.subtracting(reported))")
    // Owners: Volatility names the module without its extension.
    for v in vol where v.symbol != "IopInvalidDeviceRequest" {
      let row = rows.first { $0.entry.routine & Self.low48 == v.address }
      if let module = v.module {
        #expect(row?.owner?.module.name.lowercased().hasPrefix(module.lowercased() + ".") == true, "\(v)")
      }
    }
    // Every routine is in its own driver's image: no hook flagged on these images.
    for row in rows { #expect(!row.flags.contains("outside-expected-module"), "\(row.entry) \(row.flags)") }
  }
}
