// The etw-provider family planted into the demo on the 19041 and 22000 kernels, laid out with the
// offsets python reads from each build's ISF (an oracle independent of CallScope's ISF reader): the
// host silo's EtwpGuidHashTable with a kernel provider (enable callback in a demo driver), a
// user-mode registration (no kernel row), the Threat-Intelligence provider registered through
// EtwThreatIntProvRegHandle with its enable state planted, and the broken variants (a null silo
// state, a state in unmapped memory, a looping bucket list).

import Analysis
import Callbacks
import Foundation
import ImageBuilder
import MemoryImage
import Symbols
import TestData
import Testing
import WindowsKernel

@Suite struct EtwProviderTests {
  /// The ETW members the planting writes, per build, from python over the ISF.
  struct Offsets {
    var stateSize, table, bucketSize, guidSize, guidList, guid, regListHead, enableInfo, isEnabled, level: UInt64
    var regSize, regList, callback, callbackContext, guidEntry: UInt64
  }

  static func offsets(_ build: CrossBuild) throws -> Offsets {
    let script =
      "import json,sys; u=json.load(sys.stdin)['user_types']; f=lambda s,n: u[s]['fields'][n]['offset']; "
      + "z=lambda s: u[s]['size']; print(z('_ETW_SILODRIVERSTATE'), f('_ETW_SILODRIVERSTATE','EtwpGuidHashTable'), "
      + "z('_ETW_HASH_BUCKET'), z('_ETW_GUID_ENTRY'), f('_ETW_GUID_ENTRY','GuidList'), f('_ETW_GUID_ENTRY','Guid'), "
      + "f('_ETW_GUID_ENTRY','RegListHead'), f('_ETW_GUID_ENTRY','ProviderEnableInfo'), "
      + "f('_TRACE_ENABLE_INFO','IsEnabled'), f('_TRACE_ENABLE_INFO','Level'), z('_ETW_REG_ENTRY'), "
      + "f('_ETW_REG_ENTRY','RegList'), f('_ETW_REG_ENTRY','Callback'), f('_ETW_REG_ENTRY','CallbackContext'), "
      + "f('_ETW_REG_ENTRY','GuidEntry'))"
    let r = try TestData.run(
      "/bin/sh", ["-c", "xz -dc '\(TestData.shared(build.isfPath).path)' | python3 -c \"\(script)\""])
    let v = r.stdout.split(separator: " ").compactMap { UInt64($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    guard v.count == 15 else { throw TestDataError.tool("ISF offsets: \(r.stdout) \(r.stderr)") }
    return Offsets(
      stateSize: v[0], table: v[1], bucketSize: v[2], guidSize: v[3], guidList: v[4], guid: v[5], regListHead: v[6],
      enableInfo: v[7], isEnabled: v[8], level: v[9], regSize: v[10], regList: v[11], callback: v[12],
      callbackContext: v[13], guidEntry: v[14])
  }

  static let providerGUID = "3D6FA8D1-FE05-11D0-9DDA-00C04FD7BA7C"  // a made-up kernel provider's GUID
  static let threatIntelligenceGUID = "F4E1897C-BB5D-5668-F1D8-040F4D8DD344"
  static let context: UInt64 = 0xFFFF_F800_0E70_C0DE

  /// GUID text → its 16 bytes (Data1–3 little-endian, Data4 as written).
  static func bytes(_ guid: String) -> [UInt8] {
    let hex = guid.replacingOccurrences(of: "-", with: "")
    let all = stride(from: 0, to: 32, by: 2).compactMap { i -> UInt8? in
      let start = hex.index(hex.startIndex, offsetBy: i)
      return UInt8(hex[start..<hex.index(start, offsetBy: 2)], radix: 16)
    }
    return Array(all[0..<4].reversed()) + Array(all[4..<6].reversed()) + Array(all[6..<8].reversed()) + all[8...]
  }

  /// What the planting wrote.
  struct Planted {
    var routine: UInt64
    /// The demo driver holding the routine (the builder's truth).
    var owner: String?
    var registration: UInt64
    var providerBucket = 5
  }

  enum Defect { case none, nullState, unmappedState, loopingBucket }

  /// Plants the silo state and its providers; `tiEnabled` is the TI provider's IsEnabled.
  static func plant(
    _ builder: WindowsImageBuilder, _ o: Offsets, tiEnabled: UInt32, defect: Defect = .none
  ) throws -> Planted {
    let donor = try #require(builder.truth.callbacks.first { $0.family == "registry" })
    let routine = donor.routine
    let variable = try builder.symbolAddress("EtwpHostSiloState")
    switch defect {
    case .nullState:
      try builder.writeLE(UInt64(0), at: variable)
      return Planted(routine: routine, owner: donor.owner, registration: 0)
    case .unmappedState:
      try builder.writeLE(UInt64(0xFFFF_F8FF_DEAD_0000), at: variable)
      return Planted(routine: routine, owner: donor.owner, registration: 0)
    case .none, .loopingBucket: break
    }
    let state = try builder.allocateKernelMemory(Int(o.stateSize))
    try builder.writeLE(state, at: variable)
    let table = state + o.table
    func head(_ bucket: Int, _ kind: Int) -> UInt64 { table + UInt64(bucket) * o.bucketSize + UInt64(kind) * 16 }
    for bucket in 0..<64 {
      for kind in 0..<3 {
        try builder.writeLE(head(bucket, kind), at: head(bucket, kind))
        try builder.writeLE(head(bucket, kind), at: head(bucket, kind) + 8)
      }
    }
    /// Links `links` (LIST_ENTRY addresses) after `listHead`, in order.
    func link(_ listHead: UInt64, _ links: [UInt64]) throws {
      let ring = [listHead] + links
      for (i, node) in ring.enumerated() {
        try builder.writeLE(ring[(i + 1) % ring.count], at: node)
        try builder.writeLE(ring[(i + ring.count - 1) % ring.count], at: node + 8)
      }
    }
    func guidEntry(_ guid: String, enabled: UInt32, level: UInt8) throws -> UInt64 {
      let entry = try builder.allocateKernelMemory(Int(o.guidSize))
      try builder.write(bytes(guid), at: entry + o.guid)
      try builder.writeLE(enabled, at: entry + o.enableInfo + o.isEnabled)
      try builder.writeLE(level, at: entry + o.enableInfo + o.level)
      return entry
    }
    func registration(_ entry: UInt64, callback: UInt64, context: UInt64) throws -> UInt64 {
      let reg = try builder.allocateKernelMemory(Int(o.regSize))
      try builder.writeLE(callback, at: reg + o.callback)
      try builder.writeLE(context, at: reg + o.callbackContext)
      try builder.writeLE(entry, at: reg + o.guidEntry)
      return reg
    }
    // A kernel provider with a kernel enable callback and a user-mode registration of the same GUID.
    let provider = try guidEntry(providerGUID, enabled: 1, level: 4)
    let kernelReg = try registration(provider, callback: routine, context: context)
    let userReg = try registration(provider, callback: 0x7FF6_1234_5000, context: 0)
    try link(provider + o.regListHead, [kernelReg + o.regList, userReg + o.regList])
    // The Threat-Intelligence provider: the kernel registers it without an enable callback.
    let ti = try guidEntry(threatIntelligenceGUID, enabled: tiEnabled, level: 0)
    let tiReg = try registration(ti, callback: 0, context: 0)
    try link(ti + o.regListHead, [tiReg + o.regList])
    try builder.writeLE(tiReg, at: try builder.symbolAddress("EtwThreatIntProvRegHandle"))
    try link(head(5, 0), [provider + o.guidList])
    try link(head(9, 0), [ti + o.guidList])
    if defect == .loopingBucket {
      // The provider's Flink points back at itself instead of the bucket head.
      try builder.writeLE(provider + o.guidList, at: provider + o.guidList)
    }
    return Planted(routine: routine, owner: donor.owner, registration: kernelReg)
  }

  /// The image read back with the build's ISF (CallScope's own reader of it).
  static func read(_ build: CrossBuild, seed: UInt64, tiEnabled: UInt32, defect: Defect = .none) throws -> (
    FamilyResult, CallbackVerdicts, Planted
  ) {
    let o = try offsets(build)
    var planted: Planted?
    let (_, facts, path) = try CrossBuildData.writeDemo(build, seed: seed) { builder, _ in
      planted = try plant(builder, o, tiEnabled: tiEnabled, defect: defect)
    }
    defer { try? FileManager.default.removeItem(atPath: path) }
    let (results, verdicts) = try CrossBuildData.scan(
      build, path: path, buildNumber: facts.buildNumber, families: ["etw-provider"])
    let result = try #require(results.first)
    return (result, verdicts, try #require(planted))
  }

  static let builds = [CrossBuild.reference, CrossBuild.all[5]]  // 19041, 22000

  @Test(arguments: builds)
  func providersAndTheDisabledThreatIntelligenceProvider(_ build: CrossBuild) throws {
    let (result, verdicts, planted) = try Self.read(build, seed: 0x5E, tiEnabled: 0)
    #expect(result.notLocated == nil, "\(result.notLocated ?? "")")
    #expect(result.warnings.isEmpty, "\(result.warnings)")
    // One row: the kernel registration; the user-mode one and the TI provider's null callback have none.
    #expect(result.entries.map(\.routine) == [planted.routine])
    let row = try #require(result.entries.first)
    #expect(row.object == planted.registration)
    #expect(row.index == planted.providerBucket)
    #expect(row.detail("guid") == .string(Self.providerGUID))
    #expect(row.detail("enabled") == .int(1))
    #expect(row.detail("level") == .int(4))
    #expect(row.detail("context") == .address(Self.context))
    #expect(planted.owner != nil)
    #expect(verdicts.rows.first?.owner?.module.name == planted.owner)
    #expect(verdicts.rows.first?.flags == [])
    let ti = verdicts.familyFindings.filter { $0.rule.rawValue == "etw-ti-disabled" }
    #expect(ti.count == 1, "\(verdicts.familyFindings)")
    #expect(ti.first?.family == "etw-provider")
  }

  @Test(arguments: builds)
  func anEnabledThreatIntelligenceProviderIsNoFinding(_ build: CrossBuild) throws {
    let (result, verdicts, _) = try Self.read(build, seed: 0x5F, tiEnabled: 1)
    #expect(result.entries.count == 1)
    #expect(verdicts.familyFindings.isEmpty, "\(verdicts.familyFindings)")
  }

  @Test(arguments: [Defect.nullState, .unmappedState])
  func aBrokenSiloStateIsNotLocated(_ defect: Defect) throws {
    let (result, _, _) = try Self.read(CrossBuild.reference, seed: 0x60, tiEnabled: 1, defect: defect)
    let reason = try #require(result.notLocated)
    #expect(reason.contains(defect == .nullState ? "null" : "ffff"), "\(reason)")
    #expect(result.entries.isEmpty)
  }

  @Test func aLoopingBucketIsAWarningAndTheOtherProvidersAreRead() throws {
    let (result, verdicts, _) = try Self.read(CrossBuild.reference, seed: 0x61, tiEnabled: 0, defect: .loopingBucket)
    #expect(result.notLocated == nil)
    #expect(result.warnings.contains { $0.contains("EtwpGuidHashTable[5]") }, "\(result.warnings)")
    // The TI provider in bucket 9 is still read.
    #expect(verdicts.familyFindings.contains { $0.rule.rawValue == "etw-ti-disabled" })
  }
}
