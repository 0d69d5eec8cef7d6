// The small families of issue 14 item 10 planted into the demo on the 7601, 19041 and 22000
// kernels with offsets python reads from each build's ISF: the KD power handler, I/O tracking and
// ALPC log lists (LIST_ENTRY, then the routine, as wdbgark reads them), and the priority-callback
// and win32k-callout EX_CALLBACK slots (EX_CALLBACK_ROUTINE_BLOCK as WRK's ex.h declares it). The
// routines in their expected images are not flagged; an ALPC log routine in a driver and a win32k
// dispatch routine outside win32k are; a list that loops is a warning.

import Analysis
import Callbacks
import Foundation
import ImageBuilder
import TestData
import Testing

@Suite struct SmallFamiliesTests {
  static let builds = KernelTableFamiliesTests.builds

  /// The list families whose heads `build` has (each is read back with two records).
  static func lists(_ build: CrossBuild) throws -> [(family: String, symbol: String)] {
    let all = [
      ("kd-power", "KdpPowerListHead"), ("io-tracking", "IopPerfIoTrackingListHead"),
      ("alpc-log", "AlpcpLogCallbackListHead"),
    ]
    let facts = try CrossBuildData.facts(build)
    return all.filter { facts.symbols[$0.1] != nil }
  }

  @Test(arguments: builds)
  func routineListsAreReadBack(_ build: CrossBuild) throws {
    let lists = try Self.lists(build)
    if build.guid != CrossBuild.all[0].guid { #expect(lists.count == 3) }  // Windows 10 and 11 have all three
    for (family, symbol) in lists {
      for loop in [false, true] where !loop || build.guid == CrossBuild.reference.guid {
        let o = try KernelTableFamiliesTests.isf(build, ["s('\(symbol)')"])
        var routines: [UInt64] = []
        var kernelRoutine: UInt64 = 0
        let (results, verdicts, _) = try KernelTableFamiliesTests.scan(build, seed: 0x5A11, families: [family]) { b in
          let donor = try KernelTableFamiliesTests.donor(b)
          kernelRoutine = b.truth.kernelBase + 0x1000 + 0x40
          routines = [kernelRoutine, donor.routine + 0x20]
          var links: [UInt64] = []
          for routine in routines {
            let record = try b.allocateKernelMemory(0x18)  // LIST_ENTRY, routine
            try b.writeLE(routine, at: record + 0x10)
            links.append(record)
          }
          try KernelTableFamiliesTests.link(b, b.truth.kernelBase + o[0], links)
          if loop { try b.writeLE(links[1], at: links[1]) }  // the second record's Flink points to itself
        }
        let result = try #require(results.first)
        #expect(result.notLocated == nil, "\(family): \(result.notLocated ?? "")")
        if loop {
          #expect(!result.warnings.isEmpty, "\(family)")
          #expect(Set(result.entries.map(\.routine)).isSubset(of: Set(routines)))
          continue
        }
        #expect(result.warnings.isEmpty, "\(family): \(result.warnings)")
        #expect(result.entries.map(\.routine) == routines, "\(family)")
        // ETW's ALPC logger lives in ntoskrnl: a driver's routine there is out of place.
        let outside = verdicts.rows.filter { $0.flags.contains("outside-expected-module") }.map(\.entry.routine)
        #expect(outside == (family == "alpc-log" ? [routines[1]] : []), "\(family)")
      }
    }
  }

  @Test(arguments: builds)
  func callbackSlotsAreReadBack(_ build: CrossBuild) throws {
    let facts = try CrossBuildData.facts(build)
    if build.guid != CrossBuild.all[0].guid {
      #expect(facts.symbols["IopUpdatePriorityCallbackRoutine"] != nil && facts.symbols["PsWin32CallBack"] != nil)
    }
    for (family, symbol, slot) in [
      ("priority-callback", "IopUpdatePriorityCallbackRoutine", 3), ("win32k-callout", "PsWin32CallBack", 0),
    ] where facts.symbols[symbol] != nil {
      // EX_CALLBACK_ROUTINE_BLOCK is not in the PDB: WRK ex.h gives RundownProtect, Function, Context.
      let o = try KernelTableFamiliesTests.isf(build, ["s('\(symbol)')"]) + [8, 0x18]
      var routine: UInt64 = 0
      let (results, verdicts, _) = try KernelTableFamiliesTests.scan(build, seed: 0x5A12, families: [family]) { b in
        routine = try KernelTableFamiliesTests.donor(b).routine + 0x30
        let block = try b.allocateKernelMemory(Int(o[2]), alignment: 16)
        try b.writeLE(routine, at: block + o[1])
        // EX_FAST_REF: the reference count in the low bits.
        try b.writeLE(block | 0x7, at: b.truth.kernelBase + o[0] + UInt64(slot) * 8)
      }
      let result = try #require(results.first)
      #expect(result.notLocated == nil, "\(family): \(result.notLocated ?? "")")
      #expect(result.warnings.isEmpty, "\(family): \(result.warnings)")
      #expect(result.entries.map(\.routine) == [routine], "\(family)")
      #expect(result.entries.map(\.index) == [slot], "\(family)")
      // The donor is a demo driver, not win32k: the callout dispatch is flagged, a priority callback is not.
      let flagged = verdicts.rows.contains { $0.flags.contains("outside-expected-module") }
      #expect(flagged == (family == "win32k-callout"), "\(family)")
    }
  }
}
