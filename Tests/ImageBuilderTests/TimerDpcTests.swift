// The timer-dpc family planted into the demo on the 7601, 19041 and 22000 kernels, laid out with the
// offsets python reads from each build's ISF: a KPCR whose KPRCB heads KiProcessorBlock, its timer
// table's buckets self-linked, and timers whose KTIMER.Dpc is stored encoded with KiWaitNever and
// KiWaitAlways (the inverse of the decoding Volatility 3 applies). Their DPC routines lie in a demo
// driver, in ntoskrnl and in pool memory no module owns (flagged). Volatility 3's `windows.timers`
// reads the same image with the same ISF and must list the same timers, routines and periods. Then
// the broken variants: a null KPRCB, a KPRCB in unmapped memory, a looping bucket, a Dpc that
// decodes to nothing.

import Analysis
import Callbacks
import Foundation
import ImageBuilder
import MemoryImage
import Symbols
import TestData
import Testing
import WindowsKernel

@Suite struct TimerDpcTests {
  /// Sizes, member offsets and symbol RVAs the planting needs, from python over the build's ISF.
  struct Offsets {
    var kpcrSize, prcb, timerTable, timerEntries, entryCount, entrySize, entryList: UInt64
    var timerSize, timerListEntry, dueTime, dpc, period, dpcSize, routine, context: UInt64
    var processorBlock, numberProcessors, waitNever, waitAlways: UInt64
  }

  static func offsets(_ build: CrossBuild) throws -> Offsets {
    let script =
      "import json,sys; d=json.load(sys.stdin); u=d['user_types']; s=d['symbols']; "
      + "f=lambda t,n: u[t]['fields'][n]['offset']; z=lambda t: u[t]['size']; "
      + "t=u['_KTIMER_TABLE']['fields']; end=t['TableState']['offset'] if 'TableState' in t else z('_KTIMER_TABLE'); "
      + "print(z('_KPCR'), f('_KPCR','Prcb'), f('_KPRCB','TimerTable'), f('_KTIMER_TABLE','TimerEntries'), "
      + "(end-f('_KTIMER_TABLE','TimerEntries'))//z('_KTIMER_TABLE_ENTRY'), z('_KTIMER_TABLE_ENTRY'), "
      + "f('_KTIMER_TABLE_ENTRY','Entry'), z('_KTIMER'), f('_KTIMER','TimerListEntry'), f('_KTIMER','DueTime'), "
      + "f('_KTIMER','Dpc'), f('_KTIMER','Period'), z('_KDPC'), f('_KDPC','DeferredRoutine'), "
      + "f('_KDPC','DeferredContext'), s['KiProcessorBlock']['address'], s['KeNumberProcessors']['address'], "
      + "s['KiWaitNever']['address'], s['KiWaitAlways']['address'])"
    let r = try TestData.run(
      "/bin/sh", ["-c", "xz -dc '\(TestData.shared(build.isfPath).path)' | python3 -c \"\(script)\""])
    let v = r.stdout.split(separator: " ").compactMap { UInt64($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    guard v.count == 19 else { throw TestDataError.tool("ISF offsets: \(r.stdout) \(r.stderr)") }
    return Offsets(
      kpcrSize: v[0], prcb: v[1], timerTable: v[2], timerEntries: v[3], entryCount: v[4], entrySize: v[5],
      entryList: v[6], timerSize: v[7], timerListEntry: v[8], dueTime: v[9], dpc: v[10], period: v[11],
      dpcSize: v[12], routine: v[13], context: v[14], processorBlock: v[15], numberProcessors: v[16],
      waitNever: v[17], waitAlways: v[18])
  }

  static let never: UInt64 = 0x5A3C_96E1_0F87_D24B
  static let always: UInt64 = 0xC3A5_1E0F_7B2D_9468

  /// The raw Dpc value that decodes to `dpc` for `timer` (rol, xor and bswap undone in reverse).
  static func encode(_ dpc: UInt64, timer: UInt64) -> UInt64 {
    let rotated = (dpc ^ always).byteSwapped ^ timer
    let shift = Int(never & 0xFF) % 64
    let unrotated = shift == 0 ? rotated : (rotated >> shift) | (rotated << (64 - shift))
    return unrotated ^ never
  }

  enum Defect { case none, nullPrcb, unmappedPrcb, loopingBucket, undecodableDpc }

  /// One planted timer.
  struct Timer {
    var address: UInt64
    var bucket: Int
    var routine: UInt64
    var owner: String?
    var period: UInt32
    var dueTime: UInt64
  }

  static func plant(_ builder: WindowsImageBuilder, _ o: Offsets, defect: Defect) throws -> [Timer] {
    let base = builder.truth.kernelBase
    let block = base + o.processorBlock
    try builder.writeLE(UInt32(1), at: base + o.numberProcessors)
    try builder.writeLE(never, at: base + o.waitNever)
    try builder.writeLE(always, at: base + o.waitAlways)
    switch defect {
    case .nullPrcb:
      try builder.writeLE(UInt64(0), at: block)
      return []
    case .unmappedPrcb:
      try builder.writeLE(UInt64(0xFFFF_F8FF_DEAD_0000), at: block)
      return []
    default: break
    }
    let kpcr = try builder.allocateKernelMemory(Int(o.kpcrSize), alignment: 0x1000)
    let prcb = kpcr + o.prcb
    try builder.writeLE(prcb, at: block)
    let entries = prcb + o.timerTable + o.timerEntries
    func head(_ bucket: Int) -> UInt64 { entries + UInt64(bucket) * o.entrySize + o.entryList }
    for bucket in 0..<Int(o.entryCount) {
      try builder.writeLE(head(bucket), at: head(bucket))
      try builder.writeLE(head(bucket), at: head(bucket) + 8)
    }
    let donor = try #require(builder.truth.callbacks.first { $0.family == "registry" })
    let anonymous = try builder.allocateKernelMemory(0x40)
    let routines: [(UInt64, String?)] = [
      (donor.routine, donor.owner), (base + 0x1000, "ntoskrnl.exe"), (anonymous, nil),
    ]
    var planted: [Timer] = []
    for (n, (routine, owner)) in routines.enumerated() {
      let timer = try builder.allocateKernelMemory(Int(o.timerSize))
      let dpc = try builder.allocateKernelMemory(Int(o.dpcSize))
      try builder.writeLE(UInt8(0x13), at: dpc)  // DpcObject
      try builder.writeLE(routine, at: dpc + o.routine)
      try builder.writeLE(UInt64(0xFFFF_F800_7117_0000) + UInt64(n), at: dpc + o.context)
      try builder.writeLE(UInt8(n % 2 == 0 ? 8 : 9), at: timer)  // Header.Type: notification / synchronization
      let due = UInt64(0x01DB_0000_0000_0000) + UInt64(n) * 10_000_000
      try builder.writeLE(due, at: timer + o.dueTime)
      let period = UInt32(n == 1 ? 0 : 1000 * (n + 1))
      try builder.writeLE(period, at: timer + o.period)
      let raw = defect == .undecodableDpc && n == 0 ? UInt64(0x1234_5678_9ABC_DEF0) : encode(dpc, timer: timer)
      try builder.writeLE(raw, at: timer + o.dpc)
      planted.append(
        Timer(address: timer, bucket: 17 + 40 * n, routine: routine, owner: owner, period: period, dueTime: due))
    }
    // A timer without a DPC (a thread wait) is no row.
    let bare = try builder.allocateKernelMemory(Int(o.timerSize))
    try builder.writeLE(UInt8(8), at: bare)
    for (bucket, links) in Dictionary(grouping: planted.map { ($0.bucket, $0.address + o.timerListEntry) }, by: \.0)
      .mapValues({ $0.map(\.1) }).sorted(by: { $0.key < $1.key })
    {
      let ring = [head(bucket)] + links + (bucket == planted[0].bucket ? [bare + o.timerListEntry] : [])
      for (i, node) in ring.enumerated() {
        try builder.writeLE(ring[(i + 1) % ring.count], at: node)
        try builder.writeLE(ring[(i + ring.count - 1) % ring.count], at: node + 8)
      }
    }
    if defect == .loopingBucket {
      // The second timer's Flink points back at itself instead of its bucket head.
      try builder.writeLE(planted[1].address + o.timerListEntry, at: planted[1].address + o.timerListEntry)
    }
    return planted
  }

  static func write(_ build: CrossBuild, seed: UInt64, defect: Defect = .none) throws -> (
    [Timer], CrossBuildFacts, String
  ) {
    let o = try offsets(build)
    var planted: [Timer] = []
    let (_, facts, path) = try CrossBuildData.writeDemo(build, seed: seed) { builder, _ in
      planted = try plant(builder, o, defect: defect)
    }
    return (planted, facts, path)
  }

  static func read(_ build: CrossBuild, path: String, facts: CrossBuildFacts) throws -> (FamilyResult, CallbackVerdicts)
  {
    let (results, verdicts) = try CrossBuildData.scan(
      build, path: path, buildNumber: facts.buildNumber, families: ["timer-dpc"])
    return (try #require(results.first), verdicts)
  }

  static let builds = [CrossBuild.all[0], CrossBuild.reference, CrossBuild.all[5]]  // 7601, 19041, 22000

  @Test(arguments: builds)
  func everyTimerAgreesWithVolatilityAndPoolRoutinesAreFlagged(_ build: CrossBuild) throws {
    let (planted, facts, path) = try Self.write(build, seed: 0x71E2)
    defer { try? FileManager.default.removeItem(atPath: path) }
    let (result, verdicts) = try Self.read(build, path: path, facts: facts)
    #expect(result.notLocated == nil, "\(result.notLocated ?? "")")
    #expect(result.warnings.isEmpty, "\(result.warnings)")
    #expect(result.entries.map(\.object) == planted.map(\.address))
    #expect(result.entries.map(\.routine) == planted.map(\.routine))
    #expect(result.entries.map(\.index) == planted.map(\.bucket))
    #expect(result.entries.map { $0.detail("periodMs") } == planted.map { .int(Int64($0.period)) })
    #expect(result.entries.map { $0.detail("dueTime") } == planted.map { .int(Int64(bitPattern: $0.dueTime)) })
    #expect(result.entries.allSatisfy { $0.detail("dpcEncoded") == .bool(true) && $0.detail("processor") == .int(0) })
    for timer in planted {
      let row = try #require(verdicts.rows.first { $0.entry.object == timer.address })
      #expect(row.owner?.module.name == timer.owner)
      #expect(row.flags.contains("outside-modules") == (timer.owner == nil), "\(row.flags)")
    }

    let vol = try ServiceTableTests.volatility(build, path: path, plugin: "windows.timers")
    let mask: UInt64 = 0x0000_FFFF_FFFF_FFFF
    let listed = Set(
      vol.compactMap { row -> String? in
        guard let offset = (row["Offset"] as? NSNumber)?.uint64Value,
          let routine = (row["Routine"] as? NSNumber)?.uint64Value,
          let period = (row["Period(ms)"] as? NSNumber)?.uint64Value
        else { return nil }
        return "\(offset & mask) \(routine & mask) \(period)"
      })
    #expect(listed == Set(planted.map { "\($0.address & mask) \($0.routine & mask) \($0.period)" }), "\(vol)")
  }

  @Test(arguments: [Defect.nullPrcb, .unmappedPrcb])
  func aBrokenProcessorBlockIsNotLocated(_ defect: Defect) throws {
    let (_, facts, path) = try Self.write(CrossBuild.reference, seed: 0x71E3, defect: defect)
    defer { try? FileManager.default.removeItem(atPath: path) }
    let (result, _) = try Self.read(CrossBuild.reference, path: path, facts: facts)
    let reason = try #require(result.notLocated)
    #expect(reason.contains("KiProcessorBlock[0]"), "\(reason)")
    #expect(result.entries.isEmpty)
  }

  @Test func aLoopingBucketAndAnUndecodableDpcAreWarningsAndTheRestIsRead() throws {
    for (defect, kept) in [(Defect.loopingBucket, [0, 1, 2]), (.undecodableDpc, [1, 2])] {
      let (planted, facts, path) = try Self.write(CrossBuild.reference, seed: 0x71E4, defect: defect)
      defer { try? FileManager.default.removeItem(atPath: path) }
      let (result, _) = try Self.read(CrossBuild.reference, path: path, facts: facts)
      #expect(result.notLocated == nil)
      #expect(result.warnings.count == 1, "\(defect): \(result.warnings)")
      #expect(Set(result.entries.map(\.routine)) == Set(kept.map { planted[$0].routine }), "\(defect)")
    }
  }
}
