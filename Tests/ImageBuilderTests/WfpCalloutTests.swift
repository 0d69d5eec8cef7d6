// The wfp-callout family on a netio.sys that clang and lld-link built: gWfpGlobal a pointer to the
// WFP state, the callout table at the offsets the 19041 analysis publishes (static assertions in
// the C source check them), FeGetWfpGlobalPtr and KfdAddCalloutEntry compiled as netio exports them.
// Read with netio.pdb (gWfpGlobal from its publics) and without it (the exports' code), on the
// 7601, 19041 and 22000 demo kernels (on the builds without published offsets the table is found
// by shape); then a table pointer into unmapped memory, and a count past the table's end.

import Analysis
import Callbacks
import Foundation
import ImageBuilder
import Symbols
import TestData
import Testing
import WindowsKernel

@Suite struct WfpCalloutTests {
  static let builds = [CrossBuild.all[0], CrossBuild.reference, CrossBuild.all[5]]  // 7601, 19041, 22000
  static let netioBase: UInt64 = 0xFFFF_F807_7200_0000
  static let countOffset: UInt64 = 0x190, tableOffset: UInt64 = 0x198, entrySize: UInt64 = 0x50

  static let source = """
    typedef unsigned char UCHAR; typedef unsigned short USHORT; typedef unsigned long ULONG;
    typedef struct _CALLOUT_ENTRY {
      ULONG Kind; ULONG IsUsed; ULONG Reserved08, Reserved0C; void *ClassifyFn, *NotifyFn, *FlowDeleteFn, *ClassifyFnFast;
      ULONG Flags; ULONG Reserved34, Reserved38, Reserved3C; void *DeviceObject; UCHAR Reserved48, Reserved49;
      USHORT Reserved4A; ULONG Reserved4C;
    } CALLOUT_ENTRY;
    typedef struct _WFP_GLOBAL { UCHAR Reserved[0x190]; ULONG MaxCalloutId; ULONG Reserved194; CALLOUT_ENTRY *CalloutTable; } WFP_GLOBAL;
    #define OFF(t, m) __builtin_offsetof(t, m)
    _Static_assert(sizeof(CALLOUT_ENTRY) == 0x50, "entry");
    _Static_assert(OFF(CALLOUT_ENTRY, ClassifyFn) == 0x10 && OFF(CALLOUT_ENTRY, NotifyFn) == 0x18, "routines");
    _Static_assert(OFF(CALLOUT_ENTRY, FlowDeleteFn) == 0x20 && OFF(CALLOUT_ENTRY, ClassifyFnFast) == 0x28, "routines");
    _Static_assert(OFF(CALLOUT_ENTRY, Flags) == 0x30 && OFF(CALLOUT_ENTRY, DeviceObject) == 0x40, "members");
    _Static_assert(OFF(WFP_GLOBAL, MaxCalloutId) == 0x190 && OFF(WFP_GLOBAL, CalloutTable) == 0x198, "table");

    WFP_GLOBAL *gWfpGlobal;
    __declspec(dllexport) WFP_GLOBAL *FeGetWfpGlobalPtr(void) { return gWfpGlobal; }
    __declspec(noinline) static long FeAddCalloutEntry(int kind, void *classify, void *notify, void *flowDelete,
        ULONG flags, ULONG id, void *device) {
      if (id >= gWfpGlobal->MaxCalloutId) return (long)0xC000000D;
      CALLOUT_ENTRY *e = &gWfpGlobal->CalloutTable[id];
      if (e->IsUsed) return (long)0xC0000035;
      e->Kind = kind; e->IsUsed = 1;
      if (kind == 3) e->ClassifyFnFast = classify; else e->ClassifyFn = classify;
      e->NotifyFn = notify; e->FlowDeleteFn = flowDelete; e->Flags = flags; e->DeviceObject = device;
      return 0;
    }
    __declspec(dllexport) long KfdAddCalloutEntry(int kind, void *classify, void *notify, void *flowDelete,
        ULONG flags, UCHAR b, ULONG id, void *device) {
      return FeAddCalloutEntry(kind, classify, notify, flowDelete, flags + b, id, device);
    }

    """

  static let netio = Result {
    try LinkedImage.build(source: source, fileName: "netio.sys", base: netioBase, label: "netio")
  }

  enum Defect { case none, tableUnmapped, countPastTable }

  struct Planted {
    /// `id|kind|routine` of every routine a used entry holds.
    var rows: Set<String> = []
    var outside: Set<String> = []
    var variable: UInt64 = 0
  }

  static func key(_ id: Int, _ kind: String, _ routine: UInt64) -> String {
    "\(id)|\(kind)|\(String(routine, radix: 16))"
  }

  /// Maps `image` as netio.sys; its state holds 8 callout ids: 1 (classify, notify, flowDelete in
  /// one driver), 2 (a fast classify in another), 3 unused with stale routines, 5 classify in pool.
  static func plant(_ b: WindowsImageBuilder, image: LinkedImage, defect: Defect) throws -> Planted {
    try b.addLinkedModule(
      name: "netio.sys", path: "\\SystemRoot\\System32\\drivers\\netio.sys", base: image.imageBase,
      sizeOfImage: image.sizeOfImage, headers: image.headers,
      sections: image.sections.map { WindowsImageBuilder.MappedSection(rva: $0.rva, bytes: $0.bytes) })
    var planted = Planted()
    planted.variable = image.imageBase + (try #require(image.publics["gWfpGlobal"]))
    let donors = Dictionary(grouping: b.truth.callbacks.filter { $0.owner != nil && $0.owner != "ntoskrnl.exe" }) {
      $0.owner ?? ""
    }
    let owners = donors.keys.sorted()
    try #require(owners.count >= 2)
    let a = try #require(donors[owners[0]]?.first?.routine)
    let other = try #require(donors[owners[1]]?.first?.routine)
    let state = try b.allocateKernelMemory(0x900)
    try b.writeLE(state, at: planted.variable)
    let count: UInt32 = 8
    let hook = try b.allocateExecutableKernelPage() + 0x200
    // Cut short: the table ends its page, the last one mapped (the count goes past it).
    let table =
      defect == .countPastTable
      ? try b.allocateExecutableKernelPage() + 0x1000 - UInt64(count) * entrySize
      : try b.allocateKernelMemory(Int(UInt64(count) * entrySize))
    try b.writeLE(defect == .countPastTable ? UInt32(0x4000) : count, at: state + countOffset)
    try b.writeLE(defect == .tableUnmapped ? 0xFFFF_F8FF_DEAD_0000 : table, at: state + tableOffset)
    func entry(_ id: Int, kind: UInt32, used: Bool, classify: UInt64, notify: UInt64, flowDelete: UInt64) throws {
      let at = table + UInt64(id) * entrySize
      try b.writeLE(kind, at: at)
      try b.writeLE(UInt32(used ? 1 : 0), at: at + 4)
      try b.writeLE(classify, at: at + (kind == 3 ? 0x28 : 0x10))
      try b.writeLE(notify, at: at + 0x18)
      try b.writeLE(flowDelete, at: at + 0x20)
      guard used else { return }
      // The reader names ClassifyFn and ClassifyFnFast alike: the routine the engine classifies with.
      for (name, routine) in [("classify", classify), ("notify", notify), ("flowDelete", flowDelete)] where routine != 0
      {
        planted.rows.insert(key(id, name, routine))
        if routine == hook { planted.outside.insert(key(id, name, routine)) }
      }
    }
    try entry(1, kind: 1, used: true, classify: a + 0x10, notify: a + 0x20, flowDelete: a + 0x30)
    try entry(2, kind: 3, used: true, classify: other + 0x10, notify: 0, flowDelete: 0)
    try entry(3, kind: 1, used: false, classify: a + 0x40, notify: 0, flowDelete: 0)
    try entry(5, kind: 1, used: true, classify: hook, notify: a + 0x50, flowDelete: 0)
    return planted
  }

  static func scan(_ build: CrossBuild, withPDB: Bool, defect: Defect = .none) throws -> (
    result: FamilyResult, verdicts: CallbackVerdicts, planted: Planted
  ) {
    let image = try netio.get()
    var planted = Planted()
    let (_, facts, path) = try CrossBuildData.writeDemo(build, seed: 0x3F9) { b, _ in
      planted = try plant(b, image: image, defect: defect)
    }
    defer { try? FileManager.default.removeItem(atPath: path) }
    let profile: (any KernelProfile)? = withPDB ? try PDBProfile(path: image.pdbPath) : nil
    let (results, verdicts) = try CrossBuildData.scan(
      build, path: path, buildNumber: facts.buildNumber, families: ["wfp-callout"],
      moduleProfile: { $0.name.lowercased() == "netio.sys" ? profile : nil })
    return (try #require(results.first), verdicts, planted)
  }

  static func rowKey(_ e: CallbackEntry) -> String {
    guard let id = e.index, case .string(let kind)? = e.detail("routineKind") else { return "?" }
    return key(id, kind, e.routine)
  }

  static func check(
    _ scan: (result: FamilyResult, verdicts: CallbackVerdicts, planted: Planted), _ provenance: Provenance,
    evidence: String
  ) {
    let (result, verdicts, planted) = scan
    #expect(result.notLocated == nil, "\(result.notLocated ?? "")")
    #expect(result.warnings.isEmpty, "\(result.warnings)")
    #expect(Set(result.entries.map(rowKey)) == planted.rows)
    #expect(result.entries.count == planted.rows.count)
    #expect(result.moduleHeads.map(\.address) == [planted.variable])
    #expect(result.moduleHeads.map(\.provenance) == [provenance])
    let chain = result.moduleHeads.first?.evidence.joined(separator: "\n") ?? ""
    #expect(chain.contains(evidence), "\(chain)")
    let outside = Set(verdicts.rows.filter { $0.flags.contains("outside-modules") }.map { rowKey($0.entry) })
    #expect(outside == planted.outside)
  }

  @Test(arguments: builds)
  func readWithNetiosPDB(_ build: CrossBuild) throws {
    Self.check(try Self.scan(build, withPDB: true), .pdb, evidence: "netio.pdb")
  }

  @Test(arguments: builds)
  func readWithoutSymbolsFromNetiosCode(_ build: CrossBuild) throws {
    Self.check(try Self.scan(build, withPDB: false), .pattern, evidence: "export FeGetWfpGlobalPtr")
  }

  @Test func unmappedTableIsNotLocatedWithItsReason() throws {
    let (result, _, _) = try Self.scan(CrossBuild.reference, withPDB: true, defect: .tableUnmapped)
    #expect(result.notLocated?.contains("no callout table") == true, "\(result.notLocated ?? "located")")
  }

  @Test func countPastTheTableKeepsTheReadableEntries() throws {
    let (result, _, planted) = try Self.scan(CrossBuild.reference, withPDB: true, defect: .countPastTable)
    #expect(result.notLocated == nil, "\(result.notLocated ?? "")")
    #expect(Set(result.entries.map(Self.rowKey)) == planted.rows)
    #expect(result.warnings.contains { $0.contains("of 16384") }, "\(result.warnings)")
  }
}
