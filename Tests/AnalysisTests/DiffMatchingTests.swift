// CallbackDiff on hand-written rows: what matches, what counts as a change, what is added/removed.

import Analysis
import Testing

@Suite struct DiffMatchingTests {
  static func row(
    _ family: String, _ module: String?, _ offset: UInt64?, routine: UInt64, index: Int? = nil, flags: [String] = [],
    details: [String: DiffValue] = [:]
  ) -> CallbackDiffRow {
    CallbackDiffRow(
      family: family, index: index, routine: routine, module: module, offset: offset, symbol: nil, flags: flags,
      details: details)
  }

  @Test func anotherLoadAddressIsNoChange() {
    let a = [
      Self.row(
        "process-notify", "cng.sys", 0x20c0, routine: 0xffff_f803_65d7_a0c0, index: 0,
        details: ["context": .text("0xffff952c7ca16abf")])
    ]
    let b = [
      Self.row(
        "process-notify", "CNG.SYS", 0x20c0, routine: 0xffff_f80d_ad59_20c0, index: 3,
        details: ["context": .text("0xfffff21b98416a9f")])
    ]
    let diff = CallbackDiff(baseline: a, current: b)
    #expect(diff.isEmpty)
    #expect(!diff.hasFindings)
  }

  @Test func disabledEntryIsAChange() {
    let details: [String: DiffValue] = [
      "altitude": .text("321410"), "routineKind": .text("pre"), "enabled": .bool(true),
    ]
    var after = details
    after["enabled"] = .bool(false)
    let a = [Self.row("object-process", "csagent.sys", 0x1c80, routine: 0x1000, details: details)]
    let b = [Self.row("object-process", "csagent.sys", 0x3670, routine: 0x2000, flags: ["disabled"], details: after)]
    let diff = CallbackDiff(baseline: a, current: b)
    #expect(diff.added.isEmpty && diff.removed.isEmpty)
    #expect(diff.changed.count == 1)
    #expect(diff.changed.first?.changes == ["flag +disabled", "enabled: true → false"])
    #expect(diff.hasFindings)
  }

  @Test func sameModuleOtherRegistrationIsAddedAndRemoved() {
    let a = [Self.row("registry", "wdfilter.sys", 0x100, routine: 0x1100, details: ["altitude": .text("328010")])]
    let b = [Self.row("registry", "wdfilter.sys", 0x200, routine: 0x1200, details: ["altitude": .text("999999")])]
    let diff = CallbackDiff(baseline: a, current: b)
    #expect(diff.added.map(\.routine) == [0x1200])
    #expect(diff.removed.map(\.routine) == [0x1100])
    #expect(diff.changed.isEmpty)
  }

  @Test func routinesInNoModuleMatchByAddressOnly() {
    let a = [
      Self.row("process-notify", nil, nil, routine: 0xffff_a000_0000_0070, flags: ["outside-modules"]),
      Self.row("registry", nil, nil, routine: 0xffff_a000_0000_00b0, flags: ["outside-modules"]),
    ]
    let b = [
      Self.row("process-notify", nil, nil, routine: 0xffff_a000_0000_0070, flags: ["outside-modules"]),
      Self.row("registry", nil, nil, routine: 0xffff_b000_0000_00b0, flags: ["outside-modules"]),
    ]
    let diff = CallbackDiff(baseline: a, current: b)
    #expect(diff.added.map(\.routine) == [0xffff_b000_0000_00b0])
    #expect(diff.removed.map(\.routine) == [0xffff_a000_0000_00b0])
    #expect(diff.changed.isEmpty)
  }

  @Test func duplicateRegistrationsPairOneToOne() {
    let one = Self.row("image-notify", "ndis.sys", 0x2a10, routine: 0x10, index: 2)
    let diff = CallbackDiff(baseline: [one], current: [one, one])
    #expect(diff.added.count == 1)
    #expect(diff.removed.isEmpty && diff.changed.isEmpty)
  }
}
