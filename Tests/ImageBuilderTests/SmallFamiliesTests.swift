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

extension SmallFamiliesTests {
  enum InterruptDefect { case none, wrongType, loopingChain }

  /// One processor (KiProcessorBlock[0], KeNumberProcessors 1) whose vector 0x51 has two KINTERRUPTs
  /// sharing it — a driver's ISR dispatched by ntoskrnl, and one whose DispatchAddress was moved to
  /// pool — and vector 0x90 an MSI object (MessageServiceRoutine); offsets from the build's ISF.
  @Test(arguments: builds)
  func connectedInterruptsAndTheRedirectedDispatcher(_ build: CrossBuild) throws {
    for defect in [InterruptDefect.none, .wrongType, .loopingChain]
    where defect == .none || build.guid == CrossBuild.reference.guid {
      let o = try KernelTableFamiliesTests.isf(
        build,
        [
          "s('KiProcessorBlock')", "s('KeNumberProcessors')", "z('_KPCR')", "f('_KPCR','Prcb')",
          "f('_KPRCB','InterruptObject')", "z('_KINTERRUPT')", "f('_KINTERRUPT','Type')",
          "f('_KINTERRUPT','InterruptListEntry')", "f('_KINTERRUPT','ServiceRoutine')",
          "f('_KINTERRUPT','MessageServiceRoutine')", "f('_KINTERRUPT','DispatchAddress')",
        ])
      var expected: Set<String> = []
      var hook: UInt64 = 0
      let (results, verdicts, _) = try KernelTableFamiliesTests.scan(
        build, seed: 0x1A7, families: ["interrupt-object"]
      ) { b in
        let base = b.truth.kernelBase
        let isr = try KernelTableFamiliesTests.donor(b).routine
        hook = try b.allocateExecutableKernelPage() + 0x80
        let kpcr = try b.allocateKernelMemory(Int(o[2]), alignment: 0x1000)
        try b.writeLE(UInt32(1), at: base + o[1])
        try b.writeLE(kpcr + o[3], at: base + o[0])
        let objects = kpcr + o[3] + o[4]
        func object(service: UInt64, message: UInt64, dispatch: UInt64, type: UInt16 = 22) throws -> UInt64 {
          let k = try b.allocateKernelMemory(Int(o[5]))
          try b.writeLE(type, at: k + o[6])
          try b.writeLE(service, at: k + o[8])
          try b.writeLE(message, at: k + o[9])
          try b.writeLE(dispatch, at: k + o[10])
          return k
        }
        let k1 = try object(service: isr, message: 0, dispatch: base + 0x5000)
        let k2 = try object(service: isr + 0x10, message: 0, dispatch: hook)
        let k3 = try object(
          service: 0, message: isr + 0x20, dispatch: base + 0x5040, type: defect == .wrongType ? 5 : 22)
        // KeInitializeInterrupt links each object to itself; sharing a vector chains them.
        try KernelTableFamiliesTests.link(b, k1 + o[7], [k2 + o[7]])
        try KernelTableFamiliesTests.link(b, k3 + o[7], [])
        if defect == .loopingChain { try b.writeLE(k2 + o[7], at: k2 + o[7]) }
        try b.writeLE(k1, at: objects + 0x51 * 8)
        try b.writeLE(k3, at: objects + 0x90 * 8)
        expected = [
          "81|service|\(isr)", "81|dispatch|\(base + 0x5000)", "81|service|\(isr + 0x10)", "81|dispatch|\(hook)",
        ]
        if defect != .wrongType {
          expected.formUnion(["144|messageService|\(isr + 0x20)", "144|dispatch|\(base + 0x5040)"])
        }
      }
      let result = try #require(results.first)
      #expect(result.notLocated == nil, "\(result.notLocated ?? "")")
      let rows = Set(
        result.entries.map { e -> String in
          guard case .string(let kind)? = e.detail("routineKind") else { return "?" }
          return "\(e.index ?? -1)|\(kind)|\(e.routine)"
        })
      switch defect {
      case .none:
        #expect(result.warnings.isEmpty, "\(result.warnings)")
        #expect(rows == expected)
        // Only the dispatcher outside ntoskrnl is out of place (the ISRs belong to their driver).
        let flagged = verdicts.rows.filter { $0.flags.contains("outside-expected-module") }.map(\.entry.routine)
        #expect(flagged == [hook])
      case .wrongType:
        #expect(rows == expected)
        #expect(result.warnings.contains { $0.contains("vector 144") && $0.contains("not a KINTERRUPT") })
      case .loopingChain:
        #expect(!result.warnings.isEmpty)
        #expect(rows.isSubset(of: expected))
      }
    }
  }
}

extension SmallFamiliesTests {
  /// A KbCallbackAddPages (reason 4, wdm.h KBUGCHECK_CALLBACK_REASON) record on the add/remove-pages
  /// list of the builds that have it (its symbol RVA from the ISF).
  @Test(arguments: builds)
  func addPagesCallbacksAreReadBack(_ build: CrossBuild) throws {
    guard try CrossBuildData.facts(build).symbols["KeBugCheckAddRemovePagesCallbackListHead"] != nil else {
      #expect(build.guid == CrossBuild.all[0].guid, "only Windows 7 lacks the list")
      return
    }
    // The record is not in the PDB: wdm.h's x64 layout (Entry, CallbackRoutine +0x10, Component,
    // Checksum, Reason +0x28, State; 0x30 bytes).
    let o =
      try KernelTableFamiliesTests.isf(build, ["s('KeBugCheckAddRemovePagesCallbackListHead')"]) + [
        0x30, 0, 0x10, 0x28,
      ]
    var routine: UInt64 = 0
    let (results, _, _) = try KernelTableFamiliesTests.scan(build, seed: 0xADD9, families: ["bugcheck-add-pages"]) {
      b in
      routine = try KernelTableFamiliesTests.donor(b).routine + 0x70
      let record = try b.allocateKernelMemory(Int(o[1]))
      try b.writeLE(routine, at: record + o[3])
      try b.writeLE(UInt32(4), at: record + o[4])
      try KernelTableFamiliesTests.link(b, b.truth.kernelBase + o[0], [record + o[2]])
    }
    let result = try #require(results.first)
    #expect(result.notLocated == nil, "\(result.notLocated ?? "")")
    #expect(result.entries.map(\.routine) == [routine])
    #expect(result.entries.first?.detail("reason") == .int(4))
    #expect(result.entries.first?.detail("reasonName") == .string("KbCallbackAddPages"))
  }
}
