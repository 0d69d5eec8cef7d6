// io-timer, driver-reinit, object-type-procedure and hal-table planted into the demo on the 7601,
// 19041 and 22000 kernels, laid out with offsets python reads from each build's ISF (an oracle
// independent of CallScope's ISF reader), REINIT_PACKET and HAL_DISPATCH at their public layouts
// (WRK iop.h, ntddk.h). Each family's hook is flagged and its legitimate entries are not; then the
// broken variants: a looping list, a link into unmapped memory, an unfilled table.

import Analysis
import Callbacks
import Foundation
import ImageBuilder
import MemoryImage
import Symbols
import TestData
import Testing
import WindowsKernel

@Suite struct KernelTableFamiliesTests {
  static let builds = [CrossBuild.all[0], CrossBuild.reference, CrossBuild.all[5]]  // 7601, 19041, 22000

  /// Values of python expressions over the build's ISF (`f(struct, member)`: offset, `z(struct)`:
  /// size, `s(symbol)`: RVA), in order.
  static func isf(_ build: CrossBuild, _ expressions: [String]) throws -> [UInt64] {
    let script =
      "import json,sys; d=json.load(sys.stdin); u=d['user_types']; "
      + "f=lambda t,n: u[t]['fields'][n]['offset']; z=lambda t: u[t]['size']; s=lambda n: d['symbols'][n]['address']; "
      + "print(' '.join(str(v) for v in [\(expressions.joined(separator: ","))]))"
    let r = try TestData.run(
      "/bin/sh", ["-c", "xz -dc '\(TestData.shared(build.isfPath).path)' | python3 -c \"\(script)\""])
    let v = r.stdout.split(whereSeparator: \.isWhitespace).compactMap { UInt64($0) }
    guard v.count == expressions.count else { throw TestDataError.tool("ISF values: \(r.stdout) \(r.stderr)") }
    return v
  }

  /// Scans `families` of the demo written for `build` after `plant`, with the build's ISF.
  static func scan(
    _ build: CrossBuild, seed: UInt64, families: Set<String>, plant: (WindowsImageBuilder) throws -> Void
  ) throws -> (results: [FamilyResult], verdicts: CallbackVerdicts, builder: WindowsImageBuilder) {
    let (builder, facts, path) = try CrossBuildData.writeDemo(build, seed: seed) { builder, _ in try plant(builder) }
    defer { try? FileManager.default.removeItem(atPath: path) }
    let (results, verdicts) = try CrossBuildData.scan(
      build, path: path, buildNumber: facts.buildNumber, families: families)
    return (results, verdicts, builder)
  }

  /// Links `links` (LIST_ENTRY addresses) after `head`, in order.
  static func link(_ builder: WindowsImageBuilder, _ head: UInt64, _ links: [UInt64]) throws {
    let ring = [head] + links
    for (i, node) in ring.enumerated() {
      try builder.writeLE(ring[(i + 1) % ring.count], at: node)
      try builder.writeLE(ring[(i + ring.count - 1) % ring.count], at: node + 8)
    }
  }

  static func donor(_ builder: WindowsImageBuilder) throws -> WindowsImageTruth.Callback {
    try #require(builder.truth.callbacks.first { $0.family == "registry" })
  }

  /// An OBJECT_TYPE named `name` (Name at `nameOffset`, the string behind it), `size` bytes; its address.
  static func typeObject(_ b: WindowsImageBuilder, name: String, size: UInt64, nameOffset: UInt64) throws -> UInt64 {
    let type = try b.allocateKernelMemory(Int(size))
    let text = try b.allocateKernelMemory(2 * name.utf16.count + 2)
    try b.write(name.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }, at: text)
    try b.writeLE(UInt16(2 * name.utf16.count), at: type + nameOffset)
    try b.writeLE(UInt16(2 * name.utf16.count + 2), at: type + nameOffset + 2)
    try b.writeLE(text, at: type + nameOffset + 8)
    return type
  }

  enum ListDefect { case none, loop, unmappedLink }

  // MARK: io-timer

  @Test(arguments: builds)
  func ioTimers(_ build: CrossBuild) throws {
    for defect in [ListDefect.none, .loop, .unmappedLink]
    where defect == .none || build.guid == CrossBuild.reference.guid {
      let o = try Self.isf(
        build,
        [
          "s('IopTimerQueueHead')", "z('_IO_TIMER')", "f('_IO_TIMER','TimerFlag')", "f('_IO_TIMER','TimerList')",
          "f('_IO_TIMER','TimerRoutine')", "f('_IO_TIMER','Context')", "f('_IO_TIMER','DeviceObject')",
        ])
      var planted: [(timer: UInt64, routine: UInt64, started: Bool, owner: String?)] = []
      let (results, verdicts, _) = try Self.scan(build, seed: 0x10E1, families: ["io-timer"]) { b in
        let donor = try Self.donor(b)
        let pool = try b.allocateKernelMemory(0x40)
        for (routine, started, owner) in [(donor.routine, true, donor.owner), (pool, false, nil)] {
          let timer = try b.allocateKernelMemory(Int(o[1]))
          try b.writeLE(UInt16(started ? 1 : 0), at: timer + o[2])
          try b.writeLE(routine, at: timer + o[4])
          try b.writeLE(UInt64(0xFFFF_F800_1011_0000), at: timer + o[5])
          planted.append((timer, routine, started, owner))
        }
        let head = b.truth.kernelBase + o[0]
        try Self.link(b, head, planted.map { $0.timer + o[3] })
        switch defect {
        case .none: break
        case .loop: try b.writeLE(planted[0].timer + o[3], at: planted[0].timer + o[3])
        case .unmappedLink: try b.writeLE(UInt64(0xFFFF_F8FF_DEAD_0000), at: planted[0].timer + o[3])
        }
      }
      let result = try #require(results.first)
      #expect(result.notLocated == nil, "\(result.notLocated ?? "")")
      if defect == .none {
        #expect(result.warnings.isEmpty, "\(result.warnings)")
        #expect(result.entries.map(\.object) == planted.map(\.timer))
        #expect(result.entries.map(\.routine) == planted.map(\.routine))
        #expect(result.entries.map { $0.detail("started") } == planted.map { .bool($0.started) })
        let rows = verdicts.rows
        #expect(rows.map { $0.owner?.module.name } == planted.map(\.owner))
        #expect(rows.map { $0.flags.contains("outside-modules") } == [false, true])
      } else {
        // The walk still reaches every timer (backwards past the break) and says what broke.
        #expect(!result.warnings.isEmpty, "\(defect)")
        #expect(Set(result.entries.map(\.routine)).isSubset(of: Set(planted.map(\.routine))))
        #expect(result.entries.contains { $0.routine == planted[1].routine }, "\(defect)")
      }
    }
  }

  // MARK: driver-reinit

  @Test(arguments: builds)
  func pendingReinitializationRoutines(_ build: CrossBuild) throws {
    let o = try Self.isf(build, ["s('IopDriverReinitializeQueueHead')", "s('IopBootDriverReinitializeQueueHead')"])
    var routines: [UInt64] = []
    let (results, verdicts, _) = try Self.scan(build, seed: 0x2E1, families: ["driver-reinit"]) { b in
      let donor = try Self.donor(b)
      for (index, head) in [o[0], o[1]].enumerated() {
        let packet = try b.allocateKernelMemory(0x28)  // ListEntry, DriverObject, Routine, Context (x64)
        let routine = donor.routine + UInt64(index) * 0x10
        try b.writeLE(routine, at: packet + 0x18)
        try b.writeLE(UInt64(0xFFFF_F800_2E17_0000 + UInt64(index)), at: packet + 0x20)
        try Self.link(b, b.truth.kernelBase + head, [packet])
        routines.append(routine)
      }
    }
    let result = try #require(results.first)
    #expect(result.notLocated == nil, "\(result.notLocated ?? "")")
    #expect(result.warnings.isEmpty, "\(result.warnings)")
    #expect(result.entries.map(\.routine) == routines)
    #expect(result.entries.map { $0.detail("boot") } == [.bool(false), .bool(true)])
    #expect(
      result.entries.map { $0.detail("context") } == [.address(0xFFFF_F800_2E17_0000), .address(0xFFFF_F800_2E17_0001)])
    #expect(verdicts.rows.allSatisfy { $0.flags.isEmpty && $0.owner != nil })
  }

  // MARK: object-type-procedure

  @Test(arguments: builds)
  func objectTypeProceduresAndTheHookedOne(_ build: CrossBuild) throws {
    let o = try Self.isf(
      build,
      [
        "s('ObTypeIndexTable')", "z('_OBJECT_TYPE')", "f('_OBJECT_TYPE','Name')", "f('_OBJECT_TYPE','TypeInfo')",
        "f('_OBJECT_TYPE_INITIALIZER','OpenProcedure')", "f('_OBJECT_TYPE_INITIALIZER','DeleteProcedure')",
        "f('_OBJECT_TYPE_INITIALIZER','ParseProcedure')",
      ])
    var expected: [(type: String, procedure: String, routine: UInt64, flagged: Bool)] = []
    let (results, verdicts, builder) = try Self.scan(build, seed: 0x0B7, families: ["object-type-procedure"]) { b in
      let base = b.truth.kernelBase
      let donor = try Self.donor(b)
      let table = base + o[0]
      // Process: Open in ntoskrnl, Delete hooked into a driver; File: Parse in ntoskrnl; a driver's own type.
      let types: [(String, [(String, UInt64, UInt64, Bool)])] = [
        ("Process", [("OpenProcedure", o[4], base + 0x2000, false), ("DeleteProcedure", o[5], donor.routine, true)]),
        ("File", [("ParseProcedure", o[6], base + 0x2100, false)]),
        ("DemoAVType", [("OpenProcedure", o[4], donor.routine + 0x20, false)]),
      ]
      for (slot, (name, procedures)) in types.enumerated() {
        let type = try Self.typeObject(b, name: name, size: o[1], nameOffset: o[2])
        for (procedure, offset, routine, flagged) in procedures {
          try b.writeLE(routine, at: type + o[3] + offset)
          expected.append((name, procedure, routine, flagged))
        }
        try b.writeLE(type, at: table + UInt64(slot + 2) * 8)
      }
      try b.writeLE(UInt64(0), at: table + 5 * 8)
    }
    let result = try #require(results.first)
    #expect(result.notLocated == nil, "\(result.notLocated ?? "")")
    #expect(result.warnings.isEmpty, "\(result.warnings)")
    #expect(result.entries.map(\.routine) == expected.map(\.routine))
    #expect(result.entries.map { $0.detail("type") } == expected.map { .string($0.type) })
    for (row, planted) in zip(verdicts.rows, expected) {
      guard case .string(let procedure) = row.entry.detail("procedure") else {
        Issue.record("no procedure detail")
        continue
      }
      #expect(procedure.split(separator: "/").contains { $0 == planted.procedure }, "\(procedure)")
      #expect(row.flags.contains("outside-expected-module") == planted.flagged, "\(planted) \(row.flags)")
    }
    _ = builder
  }

  // MARK: hal-table

  @Test(arguments: builds)
  func halDispatchTableAndItsHook(_ build: CrossBuild) throws {
    for version in [UInt32(4), 0] where version == 4 || build.guid == CrossBuild.reference.guid {
      let o = try Self.isf(build, ["s('HalDispatchTable')"])
      var hook: UInt64 = 0
      let (results, verdicts, _) = try Self.scan(build, seed: 0x4A1, families: ["hal-table"]) { b in
        let base = b.truth.kernelBase
        let table = base + o[0]
        try b.writeLE(version, at: table)
        hook = try Self.donor(b).routine
        for slot in 1...HalDispatchReader.members.count {
          try b.writeLE(slot == 1 ? hook : base + 0x3000 + UInt64(slot) * 0x10, at: table + UInt64(slot) * 8)
        }
      }
      let result = try #require(results.first)
      if version == 0 {
        #expect(result.notLocated?.contains("Version 0") == true, "\(result.notLocated ?? "")")
        continue
      }
      #expect(result.notLocated == nil, "\(result.notLocated ?? "")")
      #expect(result.entries.count == HalDispatchReader.members.count)
      #expect(result.entries.first?.detail("slot") == .string("HalQuerySystemInformation"))
      let flagged = verdicts.rows.filter { $0.flags.contains("outside-expected-module") }
      #expect(flagged.map(\.entry.routine) == [hook])
    }
  }

  // MARK: idt

  /// An x64 gate as the processor reads it (Intel SDM vol. 3, "64-Bit IDT Gate Descriptors").
  static func gate(_ handler: UInt64, type: UInt8 = 0xE, dpl: UInt8 = 0, ist: UInt8 = 0, present: Bool = true)
    -> [UInt8]
  {
    var g = [UInt8](repeating: 0, count: 16)
    func put16(_ at: Int, _ v: UInt64) {
      g[at] = UInt8(v & 0xFF)
      g[at + 1] = UInt8((v >> 8) & 0xFF)
    }
    put16(0, handler)
    put16(2, 0x10)  // KGDT64_R0_CODE
    g[4] = ist
    g[5] = (present ? 0x80 : 0) | (dpl << 5) | type
    put16(6, handler >> 16)
    put16(8, handler >> 32)
    put16(10, handler >> 48)
    return g
  }

  @Test(arguments: builds)
  func interruptGatesAndTheHookedOne(_ build: CrossBuild) throws {
    let o = try Self.isf(
      build,
      ["s('KiProcessorBlock')", "s('KeNumberProcessors')", "z('_KPCR')", "f('_KPCR','Prcb')", "f('_KPCR','IdtBase')"])
    var expected: [Int: UInt64] = [:]
    var hook: UInt64 = 0
    let (results, verdicts, _) = try Self.scan(build, seed: 0x1D7, families: ["idt"]) { b in
      let base = b.truth.kernelBase
      hook = try Self.donor(b).routine
      let kpcr = try b.allocateKernelMemory(Int(o[2]), alignment: 0x1000)
      let idt = try b.allocateKernelMemory(0x1000, alignment: 0x1000)
      try b.writeLE(UInt32(1), at: base + o[1])
      try b.writeLE(kpcr + o[3], at: base + o[0])
      try b.writeLE(idt, at: kpcr + o[4])
      var table: [UInt8] = []
      for vector in 0..<256 {
        let handler = base + 0x4000 + UInt64(vector) * 0x40
        switch vector {
        case 8: table += Self.gate(handler, type: 0x5)  // a task gate: no handler
        case 0x2E:
          table += Self.gate(hook, dpl: 3)
          expected[vector] = hook
        case 0..<0x20, 0xE1:
          table += Self.gate(handler, ist: vector == 2 ? 3 : 0)
          expected[vector] = handler
        default: table += Self.gate(handler, present: false)
        }
      }
      try b.write(table, at: idt)
    }
    let result = try #require(results.first)
    #expect(result.notLocated == nil, "\(result.notLocated ?? "")")
    #expect(result.warnings.isEmpty, "\(result.warnings)")
    #expect(Dictionary(uniqueKeysWithValues: result.entries.map { ($0.index ?? -1, $0.routine) }) == expected)
    #expect(result.entries.first { $0.index == 2 }?.detail("ist") == .int(3))
    #expect(result.entries.first { $0.index == 0x2E }?.detail("dpl") == .int(3))
    let flagged = verdicts.rows.filter { $0.flags.contains("outside-expected-module") }
    #expect(flagged.map(\.entry.index) == [0x2E])
  }

  // MARK: object-other

  /// OB_CALLBACK_ENTRY on x64 (WinObjEx64 ntos.h): CallbackList, Operations +0x10, Enabled +0x14,
  /// Registration +0x18, ObjectType +0x20, PreOperation +0x28, PostOperation +0x30.
  static let callbackEntrySize = 0x48

  @Test(arguments: builds)
  func objectCallbacksOnAnotherType(_ build: CrossBuild) throws {
    let o = try Self.isf(
      build,
      [
        "s('ObTypeIndexTable')", "z('_OBJECT_TYPE')", "f('_OBJECT_TYPE','Name')", "f('_OBJECT_TYPE','CallbackList')",
      ])
    var pre: UInt64 = 0
    let (results, verdicts, _) = try Self.scan(build, seed: 0x0B8, families: ["object-other"]) { b in
      let table = b.truth.kernelBase + o[0]
      pre = try Self.donor(b).routine
      // File gets a callback entry; Process (read by object-process) and Key (empty list) give no row here.
      for (slot, name) in ["Process", "File", "Key"].enumerated() {
        let type = try Self.typeObject(b, name: name, size: o[1], nameOffset: o[2])
        var links: [UInt64] = []
        if name != "Key" {
          let entry = try b.allocateKernelMemory(Self.callbackEntrySize)
          try b.writeLE(UInt32(1), at: entry + 0x10)  // OB_OPERATION_HANDLE_CREATE
          try b.writeLE(UInt32(1), at: entry + 0x14)
          try b.writeLE(type, at: entry + 0x20)
          try b.writeLE(pre, at: entry + 0x28)
          links.append(entry)
        }
        try Self.link(b, type + o[3], links)
        try b.writeLE(type, at: table + UInt64(slot + 2) * 8)
      }
      try b.writeLE(UInt64(0), at: table + 5 * 8)
    }
    let result = try #require(results.first)
    #expect(result.notLocated == nil, "\(result.notLocated ?? "")")
    #expect(result.entries.map(\.routine) == [pre])
    #expect(result.entries.first?.detail("type") == .string("File"))
    #expect(result.entries.first?.detail("routineKind") == .string("pre"))
    #expect(verdicts.rows.first?.flags.contains("object-callbacks-other-type") == true, "\(verdicts.rows.map(\.flags))")
  }

  // MARK: pnp-target-device

  /// The notify-entry header on x64 (WinObjEx64 ntos.h NOTIFY_ENTRY_HEADER): ListEntry, EventCategory
  /// +0x10, SessionId +0x14, SessionHandle +0x18, CallbackRoutine +0x20, Context +0x28, DriverObject +0x30.
  static let notifyEntrySize = 0x68

  @Test(arguments: builds)
  func targetDeviceNotificationsOverTheDeviceTree(_ build: CrossBuild) throws {
    for loop in [false, true] where !loop || build.guid == CrossBuild.reference.guid {
      let o = try Self.isf(
        build,
        [
          "s('IopRootDeviceNode')", "z('_DEVICE_NODE')", "f('_DEVICE_NODE','Child')", "f('_DEVICE_NODE','Sibling')",
          "f('_DEVICE_NODE','TargetDeviceNotify')", "f('_DEVICE_NODE','InstancePath')",
        ])
      var routine: UInt64 = 0
      let path = "STORAGE\\Volume\\{demo}#0000000000100000"
      let (results, verdicts, _) = try Self.scan(build, seed: 0x7D1, families: ["pnp-target-device"]) { b in
        routine = try Self.donor(b).routine + 0x40
        let nodes = try (0..<3).map { _ in try b.allocateKernelMemory(Int(o[1])) }
        let (root, volume, disk) = (nodes[0], nodes[1], nodes[2])
        try b.writeLE(root, at: b.truth.kernelBase + o[0])
        try b.writeLE(volume, at: root + o[2])  // root → Child volume → Sibling disk
        try b.writeLE(loop ? volume : UInt64(0), at: disk + o[3])
        try b.writeLE(disk, at: volume + o[3])
        try Self.link(b, root + o[4], [])  // registered on by nobody
        let text = try b.allocateKernelMemory(2 * path.utf16.count)
        try b.write(path.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }, at: text)
        try b.writeLE(UInt16(2 * path.utf16.count), at: volume + o[5])
        try b.writeLE(UInt16(2 * path.utf16.count), at: volume + o[5] + 2)
        try b.writeLE(text, at: volume + o[5] + 8)
        let entry = try b.allocateKernelMemory(Self.notifyEntrySize)
        try b.writeLE(UInt32(3), at: entry + 0x10)  // EventCategoryTargetDeviceChange
        try b.writeLE(routine, at: entry + 0x20)
        try b.writeLE(UInt64(0xFFFF_F800_7D1C_0000), at: entry + 0x28)
        try Self.link(b, volume + o[4], [entry])
      }
      let result = try #require(results.first)
      #expect(result.notLocated == nil, "\(result.notLocated ?? "")")
      #expect(result.entries.map(\.routine) == [routine])
      #expect(result.entries.first?.detail("instancePath") == .string(path))
      #expect(result.entries.first?.detail("eventCategory") == .string("EventCategoryTargetDeviceChange"))
      #expect(result.entries.first?.detail("context") == .address(0xFFFF_F800_7D1C_0000))
      #expect(result.warnings.count == (loop ? 1 : 0), "\(result.warnings)")
      #expect(verdicts.rows.allSatisfy { $0.owner != nil && $0.flags.isEmpty })
    }
  }

  // MARK: lego-notify, bound-callback

  @Test(arguments: builds)
  func singleRoutineVariables(_ build: CrossBuild) throws {
    for (family, symbol) in [("lego-notify", "PspLegoNotifyRoutine"), ("bound-callback", "KiBoundsCallback")] {
      if family == "bound-callback", build.guid == CrossBuild.all[0].guid { continue }  // 7601 has no KiBoundsCallback
      let o = try Self.isf(build, ["s('\(symbol)')"])
      var routine: UInt64 = 0
      let (results, verdicts, _) = try Self.scan(build, seed: 0x1E60, families: [family]) { b in
        routine = try Self.donor(b).routine + 0x60
        try b.writeLE(routine, at: b.truth.kernelBase + o[0])
      }
      let result = try #require(results.first)
      #expect(result.notLocated == nil, "\(family): \(result.notLocated ?? "")")
      #expect(result.entries.map(\.routine) == [routine], "\(family)")
      #expect(verdicts.rows.first?.owner != nil)
    }
  }
}
