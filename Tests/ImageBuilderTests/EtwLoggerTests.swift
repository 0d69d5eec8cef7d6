// The etw-logger family planted into the demo: the host silo's EtwpLoggerContext with two loggers,
// one whose GetCpuClock is ntoskrnl's and one hooked into a demo driver (the InfinityHook state), on
// the builds where GetCpuClock is a routine (Server 2016, 1809); on 19041 and 22000 it is a clock
// index, and the family says so. Offsets from python over each build's ISF.

import Analysis
import Callbacks
import Foundation
import ImageBuilder
import TestData
import Testing

@Suite struct EtwLoggerTests {
  static let pointerBuilds = [CrossBuild.all[2], CrossBuild.all[3]]  // 14393, 17763
  static let indexBuilds = [CrossBuild.reference, CrossBuild.all[5]]  // 19041, 22000

  static func plantAndScan(_ build: CrossBuild) throws -> (FamilyResult, CallbackVerdicts, [UInt64]) {
    // Server 2016 keeps 64 logger pointers inline (WmipLoggerContext); later builds point to MaxLoggers of them.
    let inline = build.guid == CrossBuild.all[2].guid
    let o = try KernelTableFamiliesTests.isf(
      build,
      [
        "s('EtwpHostSiloState')", "z('_ETW_SILODRIVERSTATE')",
        inline ? "0" : "f('_ETW_SILODRIVERSTATE','MaxLoggers')",
        inline ? "f('_ETW_SILODRIVERSTATE','WmipLoggerContext')" : "f('_ETW_SILODRIVERSTATE','EtwpLoggerContext')",
        "z('_WMI_LOGGER_CONTEXT')", "f('_WMI_LOGGER_CONTEXT','GetCpuClock')", "f('_WMI_LOGGER_CONTEXT','LoggerId')",
      ])
    var routines: [UInt64] = []
    let (builder, facts, path) = try CrossBuildData.writeDemo(build, seed: 0xE71) { b, _ in
      let state = try b.allocateKernelMemory(Int(o[1]))
      try b.writeLE(state, at: b.truth.kernelBase + o[0])
      let array: UInt64
      if inline {
        array = state + o[3]
      } else {
        try b.writeLE(UInt32(64), at: state + o[2])
        array = try b.allocateKernelMemory(64 * 8)
        try b.writeLE(array, at: state + o[3])
      }
      for slot in 0..<64 { try b.writeLE(UInt64(1), at: array + UInt64(slot) * 8) }  // free slots
      let hook = try #require(b.truth.callbacks.first { $0.family == "registry" }).routine
      for (slot, routine) in [(0, b.truth.kernelBase + 0x5000), (2, hook)] {
        let context = try b.allocateKernelMemory(Int(o[4]))
        try b.writeLE(UInt32(slot), at: context + o[6])
        try b.writeLE(routine, at: context + o[5])
        try b.writeLE(context, at: array + UInt64(slot) * 8)
        routines.append(routine)
      }
    }
    defer { try? FileManager.default.removeItem(atPath: path) }
    _ = builder
    let (results, verdicts) = try CrossBuildData.scan(
      build, path: path, buildNumber: facts.buildNumber, families: ["etw-logger"])
    return (try #require(results.first), verdicts, routines)
  }

  @Test(arguments: pointerBuilds)
  func clockRoutinesAndTheHookedOne(_ build: CrossBuild) throws {
    let (result, verdicts, routines) = try Self.plantAndScan(build)
    #expect(result.notLocated == nil, "\(result.notLocated ?? "")")
    #expect(result.warnings.isEmpty, "\(result.warnings)")
    #expect(result.entries.map(\.routine) == routines)
    #expect(result.entries.map(\.index) == [0, 2])
    #expect(result.entries.map { $0.detail("loggerId") } == [.int(0), .int(2)])
    #expect(verdicts.rows.map { $0.flags.contains("outside-expected-module") } == [false, true])
  }

  @Test(arguments: indexBuilds)
  func aClockIndexIsNoRoutine(_ build: CrossBuild) throws {
    let (result, _, _) = try Self.plantAndScan(build)
    #expect(result.notLocated?.contains("clock index") == true, "\(result.notLocated ?? "")")
    #expect(result.entries.isEmpty)
  }
}
