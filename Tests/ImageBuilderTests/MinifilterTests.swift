// The minifilter family on a fltmgr.sys that clang and lld-link built from the published definitions
// of the filter manager's structures (fltmgr.pdb 17763's types; EDRSandblast's per-build offsets),
// whose offsets the compiler checks with static assertions: read once with that PDB (the module-PDB
// path) and once without it (the code of FltEnumerateFilters, then fltmgr's data by shape), on the
// 7601, 19041 and 22000 demo kernels. Planted: an EDR filter whose CREATE node is unlinked from one
// volume's operation list (the EDRSandblast technique) and a filter whose node was redirected to pool.

import Analysis
import Callbacks
import Foundation
import ImageBuilder
import Symbols
import TestData
import Testing
import WindowsKernel

@Suite struct MinifilterTests {
  static let builds = [CrossBuild.all[0], CrossBuild.reference, CrossBuild.all[5]]  // 7601, 19041, 22000
  static let fltmgrBase: UInt64 = 0xFFFF_F807_7000_0000

  /// Offsets the planting uses; every one is a static assertion in the C source, so the compiler
  /// confirms that the published definitions lay out this way.
  struct Offsets {
    var frameList: UInt64 = 0x58, rList: UInt64 = 0x68, frameLinks: UInt64 = 0x08, frameID: UInt64 = 0x18
    var registeredFilters: UInt64 = 0x48, primaryLink: UInt64 = 0x10, filterFrame: UInt64 = 0x30
    var filterName: UInt64 = 0x38, filterAltitude: UInt64 = 0x48, driverObject: UInt64 = 0x60
    var instanceList: UInt64 = 0x68, filterUnload: UInt64 = 0x100, instanceSetup: UInt64 = 0x108
    var operations: UInt64 = 0x1A8, instanceFilter: UInt64 = 0x40, instanceName: UInt64 = 0x60
    var filterLink: UInt64 = 0x70, callbackNodes: UInt64 = 0xA0
    var nodePre: UInt64 = 0x18, nodePost: UInt64 = 0x20, nodeInstance: UInt64 = 0x10
    var globalsSize: UInt64 = 0x100

    static func forBuild(_ build: Int) -> Offsets {
      var o = Offsets()
      if build >= 21390 { o.callbackNodes = 0xA8 }  // EDRSandblast FltmgrOffsets.csv, 21390 on
      return o
    }
  }

  /// fltmgr's structures as published (member names and order of fltmgr.pdb 17763), the code that
  /// takes the frame list (`referring` names the export), and the offsets asserted.
  static func source(windows11: Bool, referring: String) -> String {
    let o = Offsets.forBuild(windows11 ? 22000 : 19041)
    let asserts: [(String, String, UInt64)] = [
      ("GLOBALS", "FrameList", o.frameList), ("FLT_RESOURCE_LIST_HEAD", "rList", o.rList),
      ("FLTP_FRAME", "Links", o.frameLinks), ("FLTP_FRAME", "FrameID", o.frameID),
      ("FLTP_FRAME", "RegisteredFilters", o.registeredFilters), ("FLT_OBJECT", "PrimaryLink", o.primaryLink),
      ("FLT_FILTER", "Frame", o.filterFrame), ("FLT_FILTER", "Name", o.filterName),
      ("FLT_FILTER", "DefaultAltitude", o.filterAltitude), ("FLT_FILTER", "DriverObject", o.driverObject),
      ("FLT_FILTER", "InstanceList", o.instanceList), ("FLT_FILTER", "FilterUnload", o.filterUnload),
      ("FLT_FILTER", "InstanceSetup", o.instanceSetup), ("FLT_FILTER", "Operations", o.operations),
      ("FLT_INSTANCE", "Filter", o.instanceFilter), ("FLT_INSTANCE", "Name", o.instanceName),
      ("FLT_INSTANCE", "FilterLink", o.filterLink), ("FLT_INSTANCE", "CallbackNodes", o.callbackNodes),
      ("CALLBACK_NODE", "Instance", o.nodeInstance), ("CALLBACK_NODE", "PreOperation", o.nodePre),
      ("CALLBACK_NODE", "PostOperation", o.nodePost),
    ]
    return """
      typedef unsigned char UCHAR; typedef unsigned short USHORT; typedef unsigned long ULONG;
      typedef unsigned long long ULONG64;
      typedef struct _LIST_ENTRY { struct _LIST_ENTRY *Flink, *Blink; } LIST_ENTRY;
      typedef struct _UNICODE_STRING { USHORT Length; USHORT MaximumLength; USHORT *Buffer; } UNICODE_STRING;
      typedef struct _GUID { ULONG Data1; USHORT Data2, Data3; UCHAR Data4[8]; } GUID;
      typedef struct _OWNER_ENTRY { void *OwnerThread; ULONG TableSize; } OWNER_ENTRY;
      typedef struct _ERESOURCE {
        LIST_ENTRY SystemResourcesList; OWNER_ENTRY *OwnerTable; short ActiveCount; USHORT Flag;
        UCHAR ReservedLowFlags, WaiterPriority; void *SharedWaiters, *ExclusiveWaiters; OWNER_ENTRY OwnerEntry;
        ULONG ActiveEntries, ContentionCount, NumberOfSharedWaiters, NumberOfExclusiveWaiters; void *Reserved2;
        union { void *Address; ULONG64 CreatorBackTraceIndex; }; ULONG64 SpinLock;
      } ERESOURCE;
      typedef struct _FLT_RESOURCE_LIST_HEAD { ERESOURCE rLock; LIST_ENTRY rList; ULONG rCount; } FLT_RESOURCE_LIST_HEAD;
      typedef struct _FLT_OBJECT { ULONG Flags; ULONG PointerCount; void *RundownRef; LIST_ENTRY PrimaryLink;
        GUID UniqueIdentifier; } FLT_OBJECT;
      typedef union _FLT_TYPE { struct { USHORT Signature; USHORT Size; } s; ULONG Type; } FLT_TYPE;
      typedef struct _FLTP_FRAME { FLT_TYPE Type; LIST_ENTRY Links; ULONG FrameID; UNICODE_STRING AltitudeIntervalLow;
        UNICODE_STRING AltitudeIntervalHigh; UCHAR LargeIrpCtrlStackSize, SmallIrpCtrlStackSize;
        FLT_RESOURCE_LIST_HEAD RegisteredFilters; FLT_RESOURCE_LIST_HEAD AttachedVolumes; } FLTP_FRAME;
      typedef struct _FLT_OPERATION_REGISTRATION { UCHAR MajorFunction; ULONG Flags; void *PreOperation;
        void *PostOperation; void *Reserved1; } FLT_OPERATION_REGISTRATION;
      typedef struct _FLT_FILTER {
        FLT_OBJECT Base; FLTP_FRAME *Frame; UNICODE_STRING Name; UNICODE_STRING DefaultAltitude; ULONG Flags;
        void *DriverObject; FLT_RESOURCE_LIST_HEAD InstanceList; void *VerifierExtension; LIST_ENTRY VerifiedFiltersLink;
        void *FilterUnload, *InstanceSetup, *InstanceQueryTeardown, *InstanceTeardownStart, *InstanceTeardownComplete;
        void *SupportedContextsListHead; void *SupportedContexts[7];
        void *PreVolumeMount, *PostVolumeMount, *GenerateFileName, *NormalizeNameComponent, *NormalizeNameComponentEx,
          *NormalizeContextCleanup, *KtmNotification, *SectionNotification;
        FLT_OPERATION_REGISTRATION *Operations; void *OldDriverUnload;
      } FLT_FILTER;
      struct _FLT_INSTANCE;
      typedef struct _CALLBACK_NODE { LIST_ENTRY CallbackLinks; struct _FLT_INSTANCE *Instance; void *PreOperation;
        void *PostOperation; void *GenerateFileName, *NormalizeNameComponent, *NormalizeNameComponentEx,
        *NormalizeContextCleanup; ULONG Flags; } CALLBACK_NODE;
      typedef struct _FLT_INSTANCE {
        FLT_OBJECT Base; void *OperationRundownRef; void *Volume; FLT_FILTER *Filter; ULONG Flags;
        UNICODE_STRING Altitude; UNICODE_STRING Name; LIST_ENTRY FilterLink; void *ContextLock; void *Context;
        void *TransactionContexts; void *TrackCompletionNodes; \(windows11 ? "void *AddedIn21390;" : "")
        CALLBACK_NODE *CallbackNodes[50];
      } FLT_INSTANCE;
      typedef struct _GLOBALS {
        ULONG DebugFlags; ULONG64 TraceFlags; ULONG GFlags; ULONG64 RegHandle; ULONG NumProcessors; ULONG CacheLineSize;
        ULONG AlignedInstanceTrackingListSize; void *ControlDeviceObject; void *DriverObject;
        void *KtmTransactionManagerHandle; void *TxVolKtmResourceManagerHandle; void *TxVolKtmResourceManager;
        FLT_RESOURCE_LIST_HEAD FrameList;
      } GLOBALS;
      #define OFF(t, m) __builtin_offsetof(t, m)
      \(asserts.map { "_Static_assert(OFF(\($0.0), \($0.1)) == \($0.2), \"\($0.0).\($0.1)\");" }.joined(separator: "\n"))
      _Static_assert(sizeof(GLOBALS) <= \(o.globalsSize), "GLOBALS");

      GLOBALS FltGlobals = { 1 };
      FLT_INSTANCE *FltpLastInstance;
      __declspec(noinline) void FltpAcquireResourceShared(ERESOURCE *r) { r->ActiveCount++; }
      __declspec(noinline) void FltpReleaseResource(ERESOURCE *r) { r->ActiveCount--; }
      __declspec(dllexport) long \(referring)(FLT_FILTER **list, ULONG size, ULONG *count) {
        ULONG n = 0;
        FltpAcquireResourceShared(&FltGlobals.FrameList.rLock);
        for (LIST_ENTRY *f = FltGlobals.FrameList.rList.Flink; f != &FltGlobals.FrameList.rList; f = f->Flink) {
          FLTP_FRAME *frame = (FLTP_FRAME *)((char *)f - OFF(FLTP_FRAME, Links));
          for (LIST_ENTRY *l = frame->RegisteredFilters.rList.Flink; l != &frame->RegisteredFilters.rList; l = l->Flink) {
            if (n < size) list[n] = (FLT_FILTER *)((char *)l - OFF(FLT_FILTER, Base.PrimaryLink));
            n++;
          }
        }
        FltpReleaseResource(&FltGlobals.FrameList.rLock);
        *count = n;
        return n > size ? (long)0xC0000023 : 0;
      }
      __declspec(dllexport) void *FltGetRoutineAddress(CALLBACK_NODE *node, FLT_INSTANCE *instance) {
        FltpLastInstance = instance;
        return instance->CallbackNodes[22] == node ? node->PreOperation : instance->Filter->Operations->PreOperation;
      }

      """
  }

  /// fltmgr.sys built for Windows 10 or 11 with `referring` as the export that takes the frame list.
  static func build(windows11: Bool, referring: String) -> Result<LinkedImage, any Error> {
    Result {
      try LinkedImage.build(
        source: source(windows11: windows11, referring: referring), fileName: "fltmgr.sys", base: fltmgrBase,
        label: "fltmgr")
    }
  }
  // Each built once per test process.
  static let windows10 = build(windows11: false, referring: "FltEnumerateFilters")
  static let windows11 = build(windows11: true, referring: "FltEnumerateFilters")
  static let unexported = build(windows11: false, referring: "FltpPrivateWalk")

  static func fltmgr(windows11: Bool) throws -> LinkedImage { try (windows11 ? Self.windows11 : Self.windows10).get() }

  /// What was planted, to compare the rows with.
  struct Planted {
    var rows: Set<String> = []
    var unlinked: Set<String> = []
    var replaced: Set<String> = []
    var globals: UInt64 = 0
  }

  /// `filter|operation|phase|routine` of a row.
  static func key(_ filter: String, _ operation: String, _ phase: String, _ routine: UInt64) -> String {
    "\(filter)|\(operation)|\(phase)|\(String(routine, radix: 16))"
  }

  enum Defect { case none, frameLoop, operationsUnmapped, nodeUnmapped }

  /// Maps `image` as fltmgr.sys and plants two filters in frame 0 (EdrFilter: CREATE pre/post,
  /// WRITE pre, ACQUIRE_FOR_SECTION_SYNCHRONIZATION pre, unload and setup routines, two instances
  /// whose second has its CREATE node unlinked; Redirected: WRITE pre, its node calling pool).
  static func plant(
    _ b: WindowsImageBuilder, image: LinkedImage, build: Int, driverLayout: [UInt64], defect: Defect
  ) throws -> Planted {
    let o = Offsets.forBuild(build)
    for module in b.truth.modules {
      #expect(module.base + module.size <= fltmgrBase || module.base >= fltmgrBase + image.sizeOfImage)
    }
    try b.addLinkedModule(
      name: "fltmgr.sys", path: "\\SystemRoot\\System32\\drivers\\fltmgr.sys", base: image.imageBase,
      sizeOfImage: image.sizeOfImage, headers: image.headers,
      sections: image.sections.map { WindowsImageBuilder.MappedSection(rva: $0.rva, bytes: $0.bytes) })
    var planted = Planted()
    let globals = image.imageBase + (try #require(image.publics["FltGlobals"]))
    planted.globals = globals
    let donors = Dictionary(grouping: b.truth.callbacks.filter { $0.owner != nil && $0.owner != "ntoskrnl.exe" }) {
      $0.owner ?? ""
    }
    let owners = donors.keys.sorted()
    try #require(owners.count >= 2)
    let edr = try #require(donors[owners[0]]?.first?.routine)
    let other = try #require(donors[owners[1]]?.first?.routine)
    let moduleOf = { (name: String) in b.truth.modules.first { $0.name == name } }
    let edrModule = try #require(moduleOf(owners[0]))
    let otherModule = try #require(moduleOf(owners[1]))

    func string(_ text: String, at va: UInt64) throws { try b.write(try b.unicodeString(text).bytes.bytes, at: va) }
    func driverObject(_ module: WindowsImageTruth.Module) throws -> UInt64 {
      let driver = try b.allocateKernelMemory(Int(driverLayout[0]))
      try b.writeLE(module.base, at: driver + driverLayout[1])
      try b.writeLE(UInt32(module.size), at: driver + driverLayout[2])
      return driver
    }
    let frame = try b.allocateKernelMemory(0x200)
    try b.writeLE(UInt32(0), at: frame + o.frameID)
    try b.linkList(head: globals + o.frameList + o.rList, entries: [frame + o.frameLinks])
    if defect == .frameLoop { try b.writeLE(frame + o.frameLinks, at: frame + o.frameLinks) }

    struct Op {
      let major: UInt8
      let name: String
      let pre: UInt64
      let post: UInt64
    }
    struct FilterPlan {
      let name: String
      let altitude: String
      let module: WindowsImageTruth.Module
      let ops: [Op]
      let unload: UInt64
    }
    let plans = [
      FilterPlan(
        name: "EdrFilter", altitude: "328010", module: edrModule,
        ops: [
          Op(major: 0, name: "IRP_MJ_CREATE", pre: edr + 0x10, post: edr + 0x20),
          Op(major: 4, name: "IRP_MJ_WRITE", pre: edr + 0x30, post: 0),
          Op(major: 0xFF, name: "IRP_MJ_ACQUIRE_FOR_SECTION_SYNCHRONIZATION", pre: edr + 0x40, post: 0),
        ], unload: edr + 0x50),
      FilterPlan(
        name: "Redirected", altitude: "141100", module: otherModule,
        ops: [Op(major: 4, name: "IRP_MJ_WRITE", pre: other + 0x10, post: 0)], unload: 0),
    ]
    let hook = try b.allocateExecutableKernelPage() + 0x100
    var filterLinks: [UInt64] = []
    for (filterIndex, plan) in plans.enumerated() {
      let filter = try b.allocateKernelMemory(0x300)
      filterLinks.append(filter + o.primaryLink)
      try b.writeLE(frame, at: filter + o.filterFrame)
      try string(plan.name, at: filter + o.filterName)
      try string(plan.altitude, at: filter + o.filterAltitude)
      try b.writeLE(try driverObject(plan.module), at: filter + o.driverObject)
      try b.writeLE(plan.unload, at: filter + o.filterUnload)
      if plan.unload != 0 {
        try b.writeLE(plan.unload + 0x8, at: filter + o.instanceSetup)
        planted.rows.insert(key(plan.name, "FilterUnload", "", plan.unload))
        planted.rows.insert(key(plan.name, "InstanceSetup", "", plan.unload + 0x8))
      }
      let array = try b.allocateKernelMemory(0x20 * (plan.ops.count + 1))
      for (i, op) in plan.ops.enumerated() {
        let at = array + UInt64(i) * 0x20
        try b.write([op.major], at: at)
        try b.writeLE(op.pre, at: at + 8)
        try b.writeLE(op.post, at: at + 0x10)
        if op.pre != 0 { planted.rows.insert(key(plan.name, op.name, "pre", op.pre)) }
        if op.post != 0 { planted.rows.insert(key(plan.name, op.name, "post", op.post)) }
      }
      try b.write([0x80], at: array + UInt64(plan.ops.count) * 0x20)
      try b.writeLE(defect == .operationsUnmapped ? 0xFFFF_F8FF_DEAD_0000 : array, at: filter + o.operations)
      // Two instances (one per volume), each with a node per operation linked in the volume's list.
      var instanceLinks: [UInt64] = []
      for volume in 0..<(filterIndex == 0 ? 2 : 1) {
        let instance = try b.allocateKernelMemory(0x300)
        instanceLinks.append(instance + o.filterLink)
        try b.writeLE(filter, at: instance + o.instanceFilter)
        try string("\(plan.name) Instance \(volume)", at: instance + o.instanceName)
        for op in plan.ops {
          let node = try b.allocateKernelMemory(0x50)
          let slot = (Int(Int8(bitPattern: op.major)) + 22)
          try b.writeLE(
            defect == .nodeUnmapped ? 0xFFFF_F8FF_DEAD_1000 : node, at: instance + o.callbackNodes + UInt64(slot) * 8)
          try b.writeLE(instance, at: node + o.nodeInstance)
          let redirected = plan.name == "Redirected"
          try b.writeLE(redirected ? hook : op.pre, at: node + o.nodePre)
          try b.writeLE(op.post, at: node + o.nodePost)
          if redirected { planted.replaced.insert(key(plan.name, op.name, "pre", hook)) }
          let listHead = try b.allocateKernelMemory(0x10)
          try b.linkList(head: listHead, entries: [node])
          if plan.name == "EdrFilter", volume == 1, op.major == 0 {
            // EDRSandblast's unlink: the neighbours skip the node, the node keeps its links.
            try b.linkList(head: listHead, entries: [])
            try b.writeLE(listHead, at: node)
            try b.writeLE(listHead, at: node + 8)
            planted.unlinked.insert(key(plan.name, op.name, "pre", op.pre))
            planted.unlinked.insert(key(plan.name, op.name, "post", op.post))
          }
        }
      }
      try b.linkList(head: filter + o.instanceList + o.rList, entries: instanceLinks)
    }
    try b.linkList(head: frame + o.registeredFilters + o.rList, entries: filterLinks)
    return planted
  }

  /// Scans the minifilter family of a demo for `build` planted with `image`; `withPDB` gives the
  /// reader that image's PDB as fltmgr's symbol file.
  static func scan(_ build: CrossBuild, image: LinkedImage, withPDB: Bool, defect: Defect = .none) throws -> (
    result: FamilyResult, verdicts: CallbackVerdicts, planted: Planted
  ) {
    var planted = Planted()
    // _DRIVER_OBJECT's size, DriverStart and DriverSize from the build's ISF (python, not CallScope).
    let driverLayout = try KernelTableFamiliesTests.isf(
      build, ["z('_DRIVER_OBJECT')", "f('_DRIVER_OBJECT','DriverStart')", "f('_DRIVER_OBJECT','DriverSize')"])
    let (_, facts, path) = try CrossBuildData.writeDemo(build, seed: 0xF17) { b, facts in
      planted = try plant(b, image: image, build: facts.buildNumber, driverLayout: driverLayout, defect: defect)
    }
    defer { try? FileManager.default.removeItem(atPath: path) }
    let profile: (any KernelProfile)? = withPDB ? try PDBProfile(path: image.pdbPath) : nil
    let (results, verdicts) = try CrossBuildData.scan(
      build, path: path, buildNumber: facts.buildNumber, families: ["minifilter"],
      moduleProfile: { $0.name.lowercased() == "fltmgr.sys" ? profile : nil })
    return (try #require(results.first), verdicts, planted)
  }

  static func rowKey(_ e: CallbackEntry) -> String {
    guard case .string(let filter)? = e.detail("filter") else { return "?" }
    if case .string(let slot)? = e.detail("slot") { return key(filter, slot, "", e.routine) }
    guard case .string(let op)? = e.detail("operation"), case .string(let phase)? = e.detail("phase") else {
      return "?"
    }
    return key(filter, op, phase, e.routine)
  }

  static func check(
    _ scan: (result: FamilyResult, verdicts: CallbackVerdicts, planted: Planted), provenance: Provenance,
    evidence: String
  ) {
    let (result, verdicts, planted) = scan
    #expect(result.notLocated == nil, "\(result.notLocated ?? "")")
    // FltGlobals where the PDB's publics (llvm-pdbutil) put it, with the chain that found it.
    #expect(result.moduleHeads.map(\.address) == [planted.globals])
    #expect(result.moduleHeads.map(\.provenance) == [provenance])
    let chain = result.moduleHeads.first?.evidence.joined(separator: "\n") ?? ""
    #expect(chain.contains(evidence), "\(chain)")
    #expect(result.warnings.isEmpty, "\(result.warnings)")
    let rows = Set(result.entries.map(rowKey))
    #expect(rows == planted.rows.union(planted.replaced))
    #expect(result.entries.allSatisfy { $0.head == planted.globals && $0.provenance == provenance })
    let flagged = { (rule: VerdictRule) in
      Set(result.entries.filter { $0.flags.contains(rule.rawValue) }.map(rowKey))
    }
    #expect(flagged(MinifilterReader.unlinked) == planted.unlinked)
    #expect(flagged(MinifilterReader.replaced) == planted.replaced)
    // Every row but the redirected one lies in its filter's own driver image.
    let outside = Set(verdicts.rows.filter { $0.flags.contains("outside-expected-module") }.map { rowKey($0.entry) })
    #expect(outside == planted.replaced)
  }

  @Test(arguments: builds)
  func readWithFltmgrsPDB(_ build: CrossBuild) throws {
    let number = try CrossBuildData.facts(build).buildNumber
    let image = try Self.fltmgr(windows11: number >= 21390)
    Self.check(try Self.scan(build, image: image, withPDB: true), provenance: .pdb, evidence: "fltmgr.pdb")
  }

  @Test(arguments: builds)
  func readWithoutSymbolsFromFltmgrsCode(_ build: CrossBuild) throws {
    let number = try CrossBuildData.facts(build).buildNumber
    let image = try Self.fltmgr(windows11: number >= 21390)
    let scan = try Self.scan(build, image: image, withPDB: false)
    guard number >= 10240 else {
      // No layout is published for Windows 7's fltmgr: its PDB is the only source, and the reason says so.
      #expect(scan.result.notLocated?.contains("fltmgr.pdb") == true, "\(scan.result.notLocated ?? "located")")
      return
    }
    Self.check(scan, provenance: .pattern, evidence: "export FltEnumerateFilters")
  }

  @Test func withoutAReferringExportFltGlobalsIsFoundByShape() throws {
    let image = try Self.unexported.get()
    #expect(image.exports["FltEnumerateFilters"] == nil)
    Self.check(
      try Self.scan(CrossBuild.reference, image: image, withPDB: false), provenance: .pattern,
      evidence: "content of fltmgr.sys")
  }

  @Test(arguments: [Defect.frameLoop, .operationsUnmapped, .nodeUnmapped])
  func brokenStructuresAreWarningsNotCrashes(_ defect: Defect) throws {
    let image = try Self.fltmgr(windows11: false)
    let (result, _, planted) = try Self.scan(CrossBuild.reference, image: image, withPDB: true, defect: defect)
    switch defect {
    case .frameLoop:
      // A frame list that loops fails FltGlobals' shape check: not located, with the reason.
      #expect(result.notLocated != nil)
    case .operationsUnmapped, .nodeUnmapped:
      #expect(result.notLocated == nil, "\(result.notLocated ?? "")")
      #expect(!result.warnings.isEmpty, "\(defect)")
      let rows = Set(result.entries.map(Self.rowKey))
      #expect(rows.isSubset(of: planted.rows.union(planted.replaced)))
      if defect == .nodeUnmapped { #expect(rows == planted.rows) }
    case .none:
      break
    }
  }

  /// `callscope callbacks --family minifilter` as a user runs it: fltmgr.pdb found by its identity
  /// in a `--symbols` folder, and without it located from fltmgr's code; JSON rows and moduleSymbols.
  @Test func cliFindsFltmgrsPDBOnTheSymbolPath() throws {
    let image = try Self.fltmgr(windows11: false)
    let driverLayout = try KernelTableFamiliesTests.isf(
      CrossBuild.reference,
      ["z('_DRIVER_OBJECT')", "f('_DRIVER_OBJECT','DriverStart')", "f('_DRIVER_OBJECT','DriverSize')"])
    var planted = Planted()
    let (_, _, path) = try CrossBuildData.writeDemo(CrossBuild.reference, seed: 0xF18) { b, facts in
      planted = try Self.plant(b, image: image, build: facts.buildNumber, driverLayout: driverLayout, defect: .none)
    }
    defer { try? FileManager.default.removeItem(atPath: path) }
    for (symbols, provenance) in [(["--symbols", image.directory.path], "pdb"), ([], "pattern")] {
      let run = try TestData.run(
        try TestData.builtExecutable(),
        ["callbacks", path, "--offline", "--family", "minifilter", "--format", "json"] + symbols)
      #expect(run.status == 0, "\(run.stderr)")
      let top = try #require(try JSONSerialization.jsonObject(with: run.stdoutData) as? [String: Any])
      let rows = try #require(top["callbacks"] as? [[String: Any]])
      #expect(rows.count == planted.rows.count + planted.replaced.count)
      let heads = try #require(top["moduleSymbols"] as? [[String: Any]])
      #expect(heads.map { $0["provenance"] as? String } == [provenance])
      #expect(heads.map { $0["address"] as? String } == ["0x" + String(planted.globals, radix: 16)])
      let flagged = rows.filter { ($0["flags"] as? [String] ?? []).contains("operation-unlinked") }
      #expect(flagged.count == planted.unlinked.count)
    }
  }
}
