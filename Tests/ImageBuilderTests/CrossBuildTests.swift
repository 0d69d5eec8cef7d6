// The demo scenario planted on kernels of Windows 7 SP1, 8.1, Server 2016, 10 1809, Server 2022 and
// 11 21H2 (CrossBuild.all), each laid out with its own ISF's symbol RVAs and struct layouts
// (CrossBuildFacts.swift), and read back by CallScope's library offline from the BUNDLED profile of
// that build's PDB GUID. Every planted module,
// process and callback must come out with its owner and details, as an independent python walker
// (CrossBuildWalker.swift) reads them from the same image with the ISF's offsets; families whose
// kernel variables the build lacks (per its ISF) must be "not located" with a reason.

import Analysis
import Callbacks
import Foundation
import ImageBuilder
import MemoryImage
import Symbols
import TestData
import Testing
import WindowsKernel

struct CrossBuildTests {
  /// Each family's kernel variables (DESIGN.md's family table): a family can be located when the
  /// build has at least one. `callback-object` lists only ExpCallbackListHead: the demo plants no
  /// object directory, so its `\Callback` directory is not readable on any build. `power-coalescing`
  /// lists only PopCoalRegistrationList (1809 on): the library does not read the older
  /// PopCoalescingCallbackRoutine array of 8.1 and 1607 (a known issue below).
  static let familySymbols: [String: [String]] = [
    "process-notify": ["PspCreateProcessNotifyRoutine"], "thread-notify": ["PspCreateThreadNotifyRoutine"],
    "image-notify": ["PspLoadImageNotifyRoutine"], "bugcheck": ["KeBugCheckCallbackListHead"],
    "bugcheck-reason": ["KeBugCheckReasonCallbackListHead"], "registry": ["CallbackListHead", "CmpCallBackVector"],
    "object-process": ["PsProcessType"], "object-thread": ["PsThreadType"], "object-desktop": ["ExDesktopObjectType"],
    "shutdown": ["IopNotifyShutdownQueueHead"], "last-chance-shutdown": ["IopNotifyLastChanceShutdownQueueHead"],
    "fs-registration": ["IopFsNotifyChangeQueueHead"], "filesystem-disk": ["IopDiskFileSystemQueueHead"],
    "filesystem-cdrom": ["IopCdRomFileSystemQueueHead"], "filesystem-network": ["IopNetworkFileSystemQueueHead"],
    "filesystem-tape": ["IopTapeFileSystemQueueHead"], "logon-session-terminated": ["SeFileSystemNotifyRoutinesHead"],
    "logon-session-terminated-ex": ["SeFileSystemNotifyRoutinesExHead"],
    "power-setting": ["PopRegisteredPowerSettingCallbacks"], "debug-print": ["RtlpDebugPrintCallbackList"],
    "dbgk-lkmd": ["DbgkLmdCallbacks"], "nmi": ["KiNmiCallbackListHead"], "callback-object": ["ExpCallbackListHead"],
    "pnp-device-class": ["PnpDeviceClassNotifyList"], "pnp-profile": ["PnpProfileNotifyList"],
    "ci": ["SeCiCallbacks", "g_CiCallbacks"], "emp": ["EmpCallbackListHead"], "ex-host": ["ExpHostList"],
    "alt-syscall": ["PsAltSystemCallHandlers"], "pico": ["PspPicoProviderRoutines"],
    "silo-monitor": ["PspSiloMonitorList"],
    "power-coalescing": ["PopCoalRegistrationList", "PopCoalescingCallbackRoutine"],
    "etw-provider": ["EtwpHostSiloState", "PspHostSiloGlobals"],
    "irp-dispatch": ["ObpRootDirectoryObject"], "ssdt": ["KeServiceDescriptorTable"], "timer-dpc": ["KiProcessorBlock"],
    "io-timer": ["IopTimerQueueHead"],
    "driver-reinit": ["IopDriverReinitializeQueueHead", "IopBootDriverReinitializeQueueHead"],
    "object-type-procedure": ["ObTypeIndexTable"], "hal-table": ["HalDispatchTable"], "idt": ["KiProcessorBlock"],
    "object-other": ["ObTypeIndexTable"], "pnp-target-device": ["IopRootDeviceNode"],
    "etw-logger": ["EtwpHostSiloState", "PspHostSiloGlobals"], "instrumentation-callback": ["PsActiveProcessHead"],
    "lego-notify": ["PspLegoNotifyRoutine"], "bound-callback": ["KiBoundsCallback"],
    // fltmgr!FltGlobals and netio!gWfpGlobal are their modules': the kernel side is the loader entry.
    "minifilter": ["PsLoadedModuleList"], "wfp-callout": ["PsLoadedModuleList"],
    "priority-callback": ["IopUpdatePriorityCallbackRoutine"], "win32k-callout": ["PsWin32CallBack"],
    "kd-power": ["KdpPowerListHead"], "io-tracking": ["IopPerfIoTrackingListHead"],
    "alpc-log": ["AlpcpLogCallbackListHead"], "interrupt-object": ["KiProcessorBlock"],
    "shadow-ssdt": ["KeServiceDescriptorTableShadow"],
    "bugcheck-add-pages": ["KeBugCheckAddRemovePagesCallbackListHead"],
  ]

  /// Families the demo does not plant on any build, with what their reason names: it has no object
  /// directory (no \Driver), and leaves the service table, the processor block, ObTypeIndexTable
  /// (without export code) and HalDispatchTable unfilled (ServiceTableTests, TimerDpcTests and
  /// KernelTableFamiliesTests plant them).
  static let unplanted: [String: String] = [
    "irp-dispatch": "\\Driver not readable", "ssdt": "never filled in", "timer-dpc": "0 processors",
    "object-type-procedure": "holds no object type", "hal-table": "Version 0", "idt": "0 processors",
    "interrupt-object": "0 processors", "shadow-ssdt": "win32k.sys is not in PsLoadedModuleList",
    "object-other": "holds no object type", "pnp-target-device": "no device tree",
    // From 1909 GetCpuClock is a clock index; before, the demo's silo state has no loggers (MaxLoggers 0).
    "etw-logger": "_",
    // No fltmgr.sys (MinifilterTests maps one built by lld-link).
    "minifilter": "fltmgr.sys is not in PsLoadedModuleList",
    // No netio.sys either (WfpCalloutTests maps one).
    "wfp-callout": "netio.sys is not in PsLoadedModuleList",
  ]

  /// PO_COALESCING_CALLBACK_V1 on x64 (WinObjEx64 ntos.h: PushLock, CoalescingCallback, SelfPtr,
  /// Callback +0x18, ClientOrServer, Context +0x28) — what PopCoalescingCallbackRoutine's
  /// EX_FAST_REF slots reference before Windows 10 RS4.
  static let coalescingV1Callback: UInt64 = 0x18
  static let coalescingV1Context: UInt64 = 0x28
  static let coalescingContext: UInt64 = 0xFFFF_F800_0C0A_1E5C

  /// EX_CALLBACK_ROUTINE_BLOCK.Context flags of a process-notify registration: 2 Ex, 4 Ex2 (DESIGN.md).
  static func flavour(context: String) -> String {
    let flags = UInt64(context) ?? 0
    return flags & 4 != 0 ? "Ex2" : (flags & 2 != 0 ? "Ex" : "legacy")
  }

  /// Image-notify slots of a build: 8 before Windows 8.1 (build 9600), 64 after (DESIGN.md).
  static func imageNotifySlots(_ build: Int) -> Int { build < 9600 ? 8 : 64 }

  @Test(arguments: CrossBuild.all)
  func libraryReadsTheDemoWithThisBuildsBundledProfile(_ build: CrossBuild) throws {
    let seed = 0x30 + UInt64(CrossBuild.all.firstIndex { $0.guid == build.guid } ?? 0)
    let (builder, facts, path) = try CrossBuildData.writeDemo(build, seed: seed) { builder, facts in
      // Builds with the older array form of power-coalescing registrations get one, in slot 2,
      // pointing at a demo driver routine.
      if facts.symbols["PopCoalescingCallbackRoutine"] != nil, facts.symbols["PopCoalRegistrationList"] == nil,
        let routine = builder.truth.callbacks.first(where: { $0.family == "registry" })?.routine
      {
        let record = try builder.allocateKernelMemory(0x40)
        try builder.writeLE(routine, at: record + Self.coalescingV1Callback)
        try builder.writeLE(Self.coalescingContext, at: record + Self.coalescingV1Context)
        try builder.writeLE(record | 0x7, at: try builder.symbolAddress("PopCoalescingCallbackRoutine") + 2 * 8)
      }
      // Before 8.1 the image-notify array has 8 slots: a valid-looking reference just past it (slot 8,
      // the same block as slot 0) must not be read as a ninth registration.
      guard facts.buildNumber < 9600, let first = builder.truth.callbacks.first(where: { $0.family == "image-notify" })
      else { return }
      try builder.writeLE(first.object | 0xF, at: try builder.symbolAddress("PspLoadImageNotifyRoutine") + 8 * 8)
    }
    let truth = builder.truth
    let identity = PDBIdentity(name: "ntkrnlmp.pdb", guid: build.guid, age: 1)
    let walked = try WalkedImage.walk(
      path: path, dtb: truth.dtb, base: truth.kernelBase, isf: TestData.shared(build.isfPath).path,
      imageNotifySlots: Self.imageNotifySlots(facts.buildNumber))

    // The python walker sees the planted image as the truth says, with this build's offsets.
    #expect(walked.modules.map(\.name) == truth.modules.map(\.name))
    #expect(walked.modules.map(\.base) == truth.modules.map(\.base))
    #expect(walked.processes.map(\.name) == ["System", "smss.exe", "DemoApp.exe"])
    #expect(walked.kuser["NtMajorVersion"] == UInt64(facts.version[0]))
    #expect(walked.kuser["NtMinorVersion"] == UInt64(facts.version[1]))
    if let number = walked.kuser["NtBuildNumber"] { #expect(number == UInt64(facts.buildNumber)) }
    // The kernel variable: the build number with the free-build flag (0xF in the top nibble).
    #expect(walked.kuser["NtBuildNumberVariable"] == 0xF000_0000 | UInt64(facts.buildNumber))
    #expect((walked.kuser["NtBuildNumber"] == nil) == (facts.buildNumber < 10240), "NtBuildNumber in KUSER from 10")
    #expect(
      walked.callbacks.map { "\($0.family) \($0.index) \($0.routine)" }.sorted()
        == truth.callbacks.map { "\($0.family) \($0.index) \($0.routine)" }.sorted())
    #expect(Set(walked.callbacks.filter { $0.family == "registry" }.map(\.detail)) == ["328010", "321410"])
    #expect(
      Set(walked.callbacks.filter { $0.family == "bugcheck" }.map(\.detail)) == ["DemoEDR", "DemoNet", "DemoDisk"])

    // CallScope: discovery, the bundled profile offline, modules, processes.
    let memory = try MemoryImageOpener.open(path: path)
    let system = try KernelDiscovery.discover(memory: memory)
    let image = try #require(system.kernel)
    #expect(image.base == truth.kernelBase)
    #expect(system.space.dtb == truth.dtb)
    #expect(image.pdb == identity)
    #expect(image.fileVersion == facts.version.map(String.init).joined(separator: "."))
    let profile = try ProfileLoader.load(
      identity: image.pdb, symbolPath: SymbolPath(elements: []), offline: true,
      openPDB: { path in try PDBProfile(path: path) })
    #expect(profile.symbol("PsLoadedModuleList")?.provenance == .bundled)
    #expect(profile.symbol("PsLoadedModuleList")?.rva == facts.symbols["PsLoadedModuleList"])
    let kernel = Kernel(space: system.space, image: image, profile: profile)

    let (modules, moduleWarnings) = try ModuleList.read(kernel)
    #expect(moduleWarnings.isEmpty, "\(moduleWarnings)")
    #expect(modules.map(\.name) == walked.modules.map(\.name))
    #expect(modules.map(\.base) == walked.modules.map(\.base))
    #expect(modules.map(\.size) == walked.modules.map(\.size))
    #expect(modules.first?.size == facts.sizeOfImage)

    let (processes, processWarnings) = try ProcessList.read(kernel)
    #expect(processWarnings.isEmpty, "\(processWarnings)")
    #expect(processes.map(\.name) == walked.processes.map(\.name))
    #expect(processes.map(\.pid) == walked.processes.map(\.pid))
    #expect(processes.map(\.eprocess) == truth.processes.compactMap(\.eprocess))
    #expect(processes.map { $0.dtb & ~0xFFF } == truth.processes.map(\.dtb))

    // Callbacks: nothing but the planted registrations, no warnings; the families whose variables
    // this build lacks are not located, each with a reason naming what is missing.
    let results = CallbackScanner.scan(CallbackContext(kernel: kernel, build: facts.buildNumber))
    #expect(results.flatMap(\.warnings).isEmpty, "\(results.flatMap(\.warnings))")
    let expectedMissing = Self.familySymbols.filter { $0.value.allSatisfy { facts.symbols[$0] == nil } }
    #expect(Set(results.map(\.family)) == Set(Self.familySymbols.keys))
    // Families the demo leaves unplanted are not located (with their reason) or located and empty
    // (a silo state with no loggers); every other family is not located exactly when its symbols are absent.
    let planted = Set(results.map(\.family)).subtracting(Self.unplanted.keys)
    #expect(
      Set(results.compactMap { $0.notLocated == nil ? nil : $0.family }).intersection(planted)
        == Set(expectedMissing.keys).intersection(planted),
      "\(results.compactMap { r in r.notLocated.map { "\(r.family): \($0)" } })")
    for result in results {
      if let expected = Self.unplanted[result.family], expectedMissing[result.family] == nil {
        if let reason = result.notLocated {
          #expect(reason.contains(expected), "\(result.family): \(reason)")
        } else {
          #expect(result.entries.isEmpty, "\(result.family)")
        }
        continue
      }
      if expectedMissing[result.family] != nil { #expect(result.notLocated != nil, "\(result.family)") }
      guard let reason = result.notLocated, let symbols = expectedMissing[result.family] else { continue }
      #expect(symbols.contains { reason.contains($0) }, "\(result.family): \(reason)")
      #expect(result.entries.isEmpty)
    }
    let coalescingArray =
      facts.symbols["PopCoalescingCallbackRoutine"] != nil && facts.symbols["PopCoalRegistrationList"] == nil
    let registryRoutine = truth.callbacks.first { $0.family == "registry" }?.routine
    if coalescingArray {
      let coalescing = try #require(results.first { $0.family == "power-coalescing" })
      #expect(coalescing.notLocated == nil)
      #expect(coalescing.entries.map(\.index) == [2])
      #expect(coalescing.entries.map(\.routine) == [registryRoutine].compactMap { $0 })
      #expect(coalescing.entries.first?.detail("context") == .address(Self.coalescingContext))
    }
    if facts.buildNumber < 9600 {
      #expect(walked.imageNotifySlots.count == 9 && walked.imageNotifySlots[8] != 0)  // the reference past the array
    }

    let verdicts = CallbackVerdicts(results: results, kernel: kernel, modules: modules, hidden: [])
    #expect(verdicts.familyFindings.isEmpty, "\(verdicts.familyFindings)")
    #expect(verdicts.rows.count == truth.callbacks.count + (coalescingArray ? 1 : 0))
    #expect(truth.callbacks.count == 11)
    #expect(verdicts.rows.allSatisfy { $0.entry.provenance == .bundled })
    for planted in truth.callbacks {
      let label = "\(planted.family)[\(planted.index)]"
      let row = verdicts.rows.first {
        $0.entry.family == planted.family && $0.entry.index == planted.index && $0.entry.routine == planted.routine
      }
      let seen = walked.callbacks.first {
        $0.family == planted.family && $0.index == planted.index && $0.routine == planted.routine
      }
      #expect(row != nil, "\(label) not reported")
      #expect(row?.entry.headSymbol == planted.headSymbol)
      #expect(row?.entry.object == planted.object)
      // The owner: the module python's walk of PsLoadedModuleList places the routine in.
      #expect(row?.owner?.module.name == seen.flatMap { walked.module(containing: $0.routine)?.name }, "\(label)")
      #expect(row?.owner?.module.name == planted.owner, "\(label)")
      #expect(row?.flags.contains("outside-modules") == (planted.anomaly == "outside-modules"), "\(label)")
      let detail: (key: String, value: String?)? =
        switch planted.family {
        case "process-notify": ("flavour", seen.map { Self.flavour(context: $0.detail) })
        case "registry": ("altitude", seen?.detail)
        case "bugcheck": ("component", seen?.detail)
        default: nil
        }
      if let detail {
        #expect(detail.value != nil, "\(label): python did not read it")
        #expect(row?.entry.detail(detail.key) == detail.value.map(DetailValue.string), "\(label) \(detail.key)")
      }
    }
    #expect(verdicts.rows.filter { !$0.flags.isEmpty }.count == 1)
    #expect(
      verdicts.rows.filter { $0.entry.family == "image-notify" }.allSatisfy {
        ($0.entry.index ?? 0) < Self.imageNotifySlots(facts.buildNumber)
      })
  }

  /// The bundled profile of each build has every symbol and struct field the demo and the callback
  /// families use, with the ISF's values: a difference is a gap in the bundled catalog.
  @Test(arguments: CrossBuild.all)
  func bundledProfileMatchesTheISFForWhatTheDemoUses(_ build: CrossBuild) throws {
    let facts = try CrossBuildData.facts(build)
    let bundle = try BundledProfiles.shipped()
    let profile = try #require(
      try bundle.profile(for: PDBIdentity(name: "ntkrnlmp.pdb", guid: build.guid, age: 1)),
      "no bundled profile for \(build.label)")
    #expect(
      bundle.builds.first { $0.identity.guid == build.guid }?.version
        == facts.version.map(String.init).joined(separator: "."))
    let names = Set(DemoScenario.variables + Self.familySymbols.values.flatMap { $0 })
    for name in names.sorted() {
      let isf = facts.symbols[name]
      #expect(
        profile.symbol(name)?.rva == isf,
        "bundled-catalog gap: \(name) in \(build.label) (ISF \(isf.map { String($0, radix: 16) } ?? "absent"))")
    }
    for (name, layout) in facts.layouts.structs {
      #expect(profile.structSize(name) == layout.size, "bundled-catalog gap: size of \(name) in \(build.label)")
      for (field, info) in layout.fields {
        #expect(
          profile.field(name, field)?.offset == info.offset, "bundled-catalog gap: \(name).\(field) in \(build.label)")
      }
    }
  }

  /// The SizeOfImage rule (every symbol's page plus the builder's two generated pages) gives the
  /// real SizeOfImage of ntoskrnl 10.0.19041.1415 (0xe04000, the reference images' truth).
  @Test func sizeOfImageRuleMatchesTheReferenceBuild() throws {
    let facts = try CrossBuildData.facts(CrossBuild.reference)
    #expect(facts.sizeOfImage == DemoFacts.sizeOfImage)
    #expect(facts.version == [10, 0, 19041, 1415])
  }
}
