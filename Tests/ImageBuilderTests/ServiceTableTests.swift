// The ssdt family planted into the demo on the 7601, 19041 and 22000 kernels: KiServiceTable with
// entries for real Nt* routines of each build (RVAs python reads from the build's ISF, an oracle
// independent of CallScope's ISF reader), one entry hooked into a demo driver, KiServiceLimit and
// KeServiceDescriptorTable[0] filled as the kernel fills them. Volatility 3's `windows.ssdt` reads
// the same image with the same ISF and must agree on every service's index, routine, module and
// name. Then the broken variants: a table pointer outside the kernel, a limit past any kernel's,
// a table in unmapped memory, entries that decode outside ntoskrnl.

import Analysis
import Callbacks
import Foundation
import ImageBuilder
import MemoryImage
import Symbols
import TestData
import Testing
import WindowsKernel

@Suite struct ServiceTableTests {
  /// Real x64 services (the start of Windows 10's table); those a build's ISF has are planted, in order.
  static let services = [
    "NtAccessCheck", "NtWorkerFactoryWorkerReady", "NtAcceptConnectPort", "NtMapUserPhysicalPagesScatter",
    "NtWaitForSingleObject", "NtCallbackReturn", "NtReadFile", "NtDeviceIoControlFile", "NtWriteFile",
    "NtRemoveIoCompletion", "NtReleaseSemaphore", "NtReplyWaitReceivePort", "NtReplyPort",
    "NtSetInformationThread", "NtSetEvent", "NtClose", "NtQueryObject", "NtQueryInformationFile", "NtOpenKey",
    "NtEnumerateValueKey", "NtFindAtom", "NtQueryDefaultLocale", "NtQueryKey", "NtQueryValueKey",
    "NtAllocateVirtualMemory", "NtQueryInformationProcess", "NtWaitForMultipleObjects32", "NtWriteFileGather",
    "NtSetInformationProcess", "NtCreateKey", "NtFreeVirtualMemory", "NtImpersonateClientOfPort",
    "NtReleaseMutant", "NtQueryInformationToken", "NtRequestWaitReplyPort", "NtQueryVirtualMemory",
    "NtOpenThreadToken", "NtQueryInformationThread", "NtOpenProcess", "NtSetInformationFile", "NtMapViewOfSection",
  ]
  /// The service whose entry the rootkit points at its own routine.
  static let hooked = "NtOpenProcess"

  /// RVAs of the symbols the planting needs, from python over the build's ISF.
  static func rvas(_ build: CrossBuild) throws -> [String: UInt64] {
    let names = ["KiServiceTable", "KiServiceLimit", "KeServiceDescriptorTable"] + services
    let script =
      "import json,sys; s=json.load(sys.stdin)['symbols']; "
      + "print(' '.join('%s=%d' % (n, s[n]['address']) for n in sys.argv[1].split(',') if n in s))"
    let r = try TestData.run(
      "/bin/sh",
      [
        "-c",
        "xz -dc '\(TestData.shared(build.isfPath).path)' | python3 -c \"\(script)\" \(names.joined(separator: ","))",
      ])
    var out: [String: UInt64] = [:]
    for pair in r.stdout.split(whereSeparator: \.isWhitespace) {
      let parts = pair.split(separator: "=")
      if parts.count == 2, let value = UInt64(parts[1]) { out[String(parts[0])] = value }
    }
    guard out["KiServiceTable"] != nil, out["KeServiceDescriptorTable"] != nil else {
      throw TestDataError.tool("ISF symbols: \(r.stdout) \(r.stderr)")
    }
    return out
  }

  enum Defect { case none, baseOutsideKernel, limitTooLarge, unmappedTable, garbageEntries }

  /// What was planted: per service number, its name and routine; the hook's routine and owner.
  struct Planted {
    var names: [String]
    var routines: [UInt64]
    var hookIndex: Int
    var hookOwner: String?
  }

  static func plant(_ builder: WindowsImageBuilder, _ rva: [String: UInt64], defect: Defect) throws -> Planted {
    let base = builder.truth.kernelBase
    let table = base + (rva["KiServiceTable"] ?? 0)
    let descriptor = base + (rva["KeServiceDescriptorTable"] ?? 0)
    let names = services.filter { rva[$0] != nil }
    let donor = try #require(builder.truth.callbacks.first { $0.family == "registry" })
    var routines: [UInt64] = []
    var hookIndex = -1
    for (index, name) in names.enumerated() {
      let routine = name == hooked ? donor.routine : base + (rva[name] ?? 0)
      if name == hooked { hookIndex = index }
      routines.append(routine)
      // x64: the offset from the table, shifted left 4; the low bits count stack arguments (here index % 4).
      let offset = Int64(bitPattern: routine &- table)
      var entry = Int32(truncatingIfNeeded: offset << 4) | Int32(index % 4)
      if defect == .garbageEntries { entry = Int32(truncatingIfNeeded: 0x7FF0_0000 &+ index << 8) }
      try builder.writeLE(entry, at: table + UInt64(index) * 4)
    }
    var limit = UInt32(names.count)
    if defect == .limitTooLarge { limit = 100_000 }
    if let limitRVA = rva["KiServiceLimit"] { try builder.writeLE(limit, at: base + limitRVA) }
    let tableBase: UInt64
    switch defect {
    case .baseOutsideKernel: tableBase = donor.routine
    case .unmappedTable: tableBase = base + 0x7F_F000  // inside SizeOfImage, never mapped by the sparse kernel
    default: tableBase = table
    }
    try builder.writeLE(tableBase, at: descriptor)  // Base
    try builder.writeLE(UInt64(0), at: descriptor + 8)  // Count
    try builder.writeLE(limit, at: descriptor + 16)  // Limit
    try builder.writeLE(UInt64(0), at: descriptor + 24)  // Number (x64: unused)
    return Planted(names: names, routines: routines, hookIndex: hookIndex, hookOwner: donor.owner)
  }

  /// The demo with the table planted, and its path (the caller removes the file).
  static func write(_ build: CrossBuild, seed: UInt64, defect: Defect = .none) throws -> (
    Planted, CrossBuildFacts, String
  ) {
    let rva = try rvas(build)
    var planted: Planted?
    let (_, facts, path) = try CrossBuildData.writeDemo(build, seed: seed) { builder, _ in
      planted = try plant(builder, rva, defect: defect)
    }
    return (try #require(planted), facts, path)
  }

  /// The image read back with the build's ISF (CallScope's own reader of it).
  static func read(_ build: CrossBuild, path: String, facts: CrossBuildFacts) throws -> (FamilyResult, CallbackVerdicts)
  {
    let (results, verdicts) = try CrossBuildData.scan(
      build, path: path, buildNumber: facts.buildNumber, families: ["ssdt"])
    return (try #require(results.first), verdicts)
  }

  /// `vol -r json <plugin>` of `path` with the build's ISF.
  static func volatility(_ build: CrossBuild, path: String, plugin: String = "windows.ssdt") throws -> [[String: Any]] {
    try Oracles.volatility(isf: build.isfPath, image: path, plugin: plugin)
  }

  static let builds = [CrossBuild.all[0], CrossBuild.reference, CrossBuild.all[5]]  // 7601, 19041, 22000

  @Test(arguments: builds)
  func everyServiceAgreesWithVolatilityAndTheHookIsFlagged(_ build: CrossBuild) throws {
    let (planted, facts, path) = try Self.write(build, seed: 0x55D7)
    defer { try? FileManager.default.removeItem(atPath: path) }
    let (result, verdicts) = try Self.read(build, path: path, facts: facts)
    #expect(result.notLocated == nil, "\(result.notLocated ?? "")")
    #expect(result.warnings.isEmpty, "\(result.warnings)")
    #expect(planted.names.count >= 30, "\(build): only \(planted.names.count) services in the ISF")
    #expect(result.entries.map(\.index) == Array(0..<planted.names.count).map { Optional($0) })
    #expect(result.entries.map(\.routine) == planted.routines)
    #expect(result.entries.map { $0.detail("stackArguments") } == planted.names.indices.map { .int(Int64($0 % 4)) })
    for (index, entry) in result.entries.enumerated() where index != planted.hookIndex {
      #expect(entry.detail("service") == .string(planted.names[index]), "\(index)")
    }
    // The hooked entry: its routine has no Nt name, and it lies outside ntoskrnl.
    let hook = try #require(verdicts.rows.first { $0.entry.index == planted.hookIndex })
    #expect(hook.owner?.module.name == planted.hookOwner)
    #expect(hook.flags.contains("outside-expected-module"), "\(hook.flags)")
    #expect(verdicts.rows.filter { $0.flags.contains("outside-expected-module") }.count == 1)

    let mask: UInt64 = 0x0000_FFFF_FFFF_FFFF
    let vol = try Self.volatility(build, path: path)
    #expect(vol.count == planted.names.count, "\(build): Volatility listed \(vol.count)")
    for row in vol {
      let index = try #require((row["Index"] as? NSNumber)?.intValue)
      let address = try #require((row["Address"] as? NSNumber)?.uint64Value)
      let ours = try #require(result.entries.first { $0.index == index }, "index \(index)")
      #expect(ours.routine & mask == address, "\(build) service \(index)")
      // Volatility names a routine in a module without symbols from ntoskrnl's table at the same
      // module offset (on 7601 the hook gets nt's `_imp_PshedSetErrorSourceInfo`): not a name to compare.
      if let symbol = row["Symbol"] as? String, index != planted.hookIndex {
        #expect(ours.detail("service") == .string(symbol), "\(build) service \(index) in \(row["Module"] ?? "?")")
      }
      if let module = row["Module"] as? String, index == planted.hookIndex {
        #expect(planted.hookOwner?.lowercased().hasPrefix(module.lowercased()) == true, "\(module)")
      }
    }
  }

  @Test(arguments: [Defect.baseOutsideKernel, .limitTooLarge, .unmappedTable, .garbageEntries])
  func aBrokenTableIsNotLocated(_ defect: Defect) throws {
    let (_, facts, path) = try Self.write(CrossBuild.reference, seed: 0x55D8, defect: defect)
    defer { try? FileManager.default.removeItem(atPath: path) }
    let (result, _) = try Self.read(CrossBuild.reference, path: path, facts: facts)
    let reason = try #require(result.notLocated, "\(defect): \(result.entries.count) rows")
    let expected = [
      Defect.baseOutsideKernel: "not inside ntoskrnl", .limitTooLarge: "100000 services",
      .unmappedTable: "KiServiceTable", .garbageEntries: "entries decode",
    ]
    #expect(reason.contains(expected[defect] ?? "?"), "\(defect): \(reason)")
    #expect(result.entries.isEmpty)
  }

  @Test func zwStubsGiveServiceNumbers() {
    // Windows 10 x64 ZwClose: mov rax, rsp; cli; sub rsp, 10h; push rax; pushfq; push 10h;
    // lea rax, [KiServiceLinkage]; push rax; mov eax, 0Fh; jmp KiServiceInternal.
    let x64: [UInt8] = [
      0x48, 0x8B, 0xC4, 0xFA, 0x48, 0x83, 0xEC, 0x10, 0x50, 0x9C, 0x6A, 0x10, 0x48, 0x8D, 0x05, 0x3D, 0x71, 0x00,
      0x00, 0x50, 0xB8, 0x0F, 0x00, 0x00, 0x00, 0xE9, 0x60, 0x3A, 0x00, 0x00, 0x0F, 0x1F,
    ]
    #expect(SystemServiceStub.number(x64, x64: true) == 0x0F)
    // Windows 7 x86 ZwClose: mov eax, 32h; lea edx, [esp+4]; pushfd; push 8; call KiSystemService; ret 4.
    let x86: [UInt8] = [0xB8, 0x32, 0x00, 0x00, 0x00, 0x8D, 0x54, 0x24, 0x04, 0x9C, 0x6A, 0x08, 0xE8, 0, 0, 0, 0]
    #expect(SystemServiceStub.number(x86, x64: false) == 0x32)
    // An ordinary prologue is no stub; a number past 0xFFF is none.
    #expect(SystemServiceStub.number([0x48, 0x89, 0x5C, 0x24, 0x08, 0x57, 0x48, 0x83, 0xEC, 0x20], x64: true) == nil)
    #expect(SystemServiceStub.number([0xB8, 0x00, 0x20, 0x00, 0x00, 0xE9, 0, 0, 0, 0], x64: true) == nil)
  }
}
