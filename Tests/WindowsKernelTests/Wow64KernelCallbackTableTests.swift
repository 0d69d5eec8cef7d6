// WOW64 KernelCallbackTable checks on a patched copy of the kct-hijack image: three GUI processes
// (winlogon, explorer, notepad) are made WOW64 by planting EPROCESS.WoW64Process → EWOW64PROCESS →
// PEB32 → PEB_LDR_DATA32 → two LDR_DATA_TABLE_ENTRY32 (SysWOW64 ntdll and user32) and a 4-byte-slot
// KernelCallbackTable; notepad's 32-bit table is a copy whose slot 0 points into private memory.
// svchost (996) gets a PEB32 whose 32-bit loader list loops (bad input). Offsets of the kernel
// structures come from the build's ISF read by python (not from our profile); the 32-bit loader
// offsets are the documented winternl shapes for 4-byte pointers. The planted data sits in the free
// tail (past 0x800) of the KUSER_SHARED_DATA page, the only page below 4 GiB these processes map
// (0x7ffe0000; the kernel sees it at 0xfffff78000000000); page walks are done here from raw reads.

import AddressSpace
import Analysis
import Callbacks
import Foundation
import MemoryImage
import TestData
import Testing
import WindowsKernel

@Suite(.serialized) struct Wow64KernelCallbackTableTests {
  static let name = "win10-19041-kct-hijack"
  /// KUSER_SHARED_DATA as user mode sees it (below 4 GiB) and as the kernel sees it.
  static let userPage: UInt64 = 0x7FFE_0000
  static let kernelPage: UInt64 = 0xFFFF_F780_0000_0000

  // Page offsets of the planted structures.
  static let peb32Clean: UInt64 = 0x800
  static let peb32Hijack: UInt64 = 0x840
  static let peb32Loop: UInt64 = 0x880
  static let ldr: UInt64 = 0x900
  static let entryNtdll: UInt64 = 0x940
  static let entryUser32: UInt64 = 0x9A0
  static let tableClean: UInt64 = 0xB00
  static let tableHijack: UInt64 = 0xB80
  static let ldrLoop: UInt64 = 0xC00
  static let loopEntryA: UInt64 = 0xC40
  static let loopEntryB: UInt64 = 0xCA0
  static let injected: UInt64 = 0xF00  // slot target of the hijack: in the page's private VAD, outside user32
  static let ewowLoop: UInt64 = 0xFE8
  static let ewowClean: UInt64 = 0xFF0
  static let ewowHijack: UInt64 = 0xFF8

  /// The 32-bit user32: ends at page offset 0xC00, so the tables lie inside it and `injected` does not.
  static let user32Base: UInt64 = 0x7FFD_0000
  static let user32Size: UInt64 = 0x10C00
  static let ntdllBase: UInt64 = 0x7700_0000
  static let ntdllSize: UInt64 = 0x1A_0000
  static let slotCount = 16
  static let slots: [UInt64] = (0..<slotCount).map { 0x7FFD_1000 + 0x10 * UInt64($0) }

  static let wow64Names: Set<String> = ["winlogon.exe", "explorer.exe", "notepad.exe"]
  static let loopPid: UInt64 = 996

  nonisolated(unsafe) private static var cached: (fixture: KernelFixture, volatilityWow64: [UInt64: Bool])?
  private static let lock = NSLock()

  /// The patched image, built and opened once (the copy is deleted once mapped), and Volatility 3's
  /// `windows.pslist` Wow64 column of the copy (pid → Wow64).
  static func patchedWithOracle() throws -> (fixture: KernelFixture, volatilityWow64: [UInt64: Bool]) {
    lock.lock()
    defer { lock.unlock() }
    if let cached { return cached }
    let built = try build()
    cached = built
    return built
  }

  static func patched() throws -> KernelFixture { try patchedWithOracle().fixture }

  /// pid → `Wow64` of Volatility 3's `windows.pslist` on `image` (own symbol copy and cache folder).
  static func volatilityWow64(image: String) throws -> [UInt64: Bool] {
    let symbols = try TestData.temporaryDirectory("vol-symbols-wow64")
    defer { try? FileManager.default.removeItem(at: symbols) }
    let folder = symbols.appendingPathComponent("windows/ntkrnlmp.pdb")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let isf = TestData.shared(ISFOffsets.isf)
    try FileManager.default.copyItem(at: isf, to: folder.appendingPathComponent(isf.lastPathComponent))
    // A private cache too: a shared one keeps the identifier → path entry of another run's deleted
    // symbol folder, and Volatility then looks for the table online.
    let cache = symbols.appendingPathComponent("cache")
    try FileManager.default.createDirectory(at: cache, withIntermediateDirectories: true)
    let result = try TestData.run(
      try TestData.which("vol"),
      ["-q", "--offline", "-s", symbols.path, "--cache-path", cache.path, "-r", "json", "-f", image, "windows.pslist"])
    let start = try #require(result.stdoutData.firstIndex(of: UInt8(ascii: "[")), "vol failed: \(result.stderr)")
    let rows = try #require(
      try JSONSerialization.jsonObject(with: result.stdoutData[start...]) as? [[String: Any]], "vol rows")
    var out: [UInt64: Bool] = [:]
    for row in rows {
      if let pid = (row["PID"] as? NSNumber)?.uint64Value, let wow = row["Wow64"] as? Bool { out[pid] = wow }
    }
    return out
  }

  /// `_EPROCESS.WoW64Process` and `_EWOW64PROCESS.Peb` offsets of the build's ISF (python).
  static func isfOffsets() throws -> (wow64Process: UInt64, ewowPeb: UInt64, pebLdr: UInt64, pebKct: UInt64) {
    let script =
      "import json,sys; u=json.load(sys.stdin)['user_types']; f=lambda s,n: u[s]['fields'][n]['offset']; "
      + "print(f('_EPROCESS','WoW64Process'), f('_EWOW64PROCESS','Peb'), f('_PEB32','Ldr'), "
      + "f('_PEB32','KernelCallbackTable'))"
    let r = try TestData.run(
      "/bin/sh", ["-c", "xz -dc '\(TestData.shared(ISFOffsets.isf).path)' | python3 -c \"\(script)\""])
    let values = r.stdout.split(whereSeparator: \.isWhitespace).compactMap { UInt64($0) }
    try #require(r.status == 0 && values.count == 4, "ISF read failed: \(r.stderr)")
    return (values[0], values[1], values[2], values[3])
  }

  /// Little-endian bytes of `value`.
  static func le(_ value: UInt64, _ width: Int) -> [UInt8] {
    (0..<width).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }
  }

  /// The planted tail of the page (offsets 0x800..<0x1000), user-mode part only.
  static func userBytes(pebLdr: UInt64, pebKct: UInt64) -> [UInt8] {
    var page = [UInt8](repeating: 0, count: 0x1000)
    func put(_ bytes: [UInt8], _ offset: UInt64) {
      for (i, b) in bytes.enumerated() { page[Int(offset) + i] = b }
    }
    func put32(_ value: UInt64, _ offset: UInt64) { put(le(value, 4), offset) }
    let u = userPage
    // PEB32s: Ldr and KernelCallbackTable.
    for (peb, ldrAt, table) in [
      (peb32Clean, ldr, tableClean), (peb32Hijack, ldr, tableHijack), (peb32Loop, ldrLoop, UInt64(0)),
    ] {
      put32(u + ldrAt, peb + pebLdr)
      put32(table == 0 ? 0 : u + table, peb + pebKct)
    }
    // PEB_LDR_DATA32.InLoadOrderModuleList (+0x0C) and the two LDR_DATA_TABLE_ENTRY32.
    let head = ldr + 0x0C
    put32(u + entryNtdll, head)
    put32(u + entryUser32, head + 4)
    let strings:
      [(
        entry: UInt64, next: UInt64, prev: UInt64, base: UInt64, size: UInt64, full: String, short: String,
        at: UInt64
      )] = [
        (entryNtdll, entryUser32, head, ntdllBase, ntdllSize, "C:\\Windows\\SysWOW64\\ntdll.dll", "ntdll.dll", 0xA00),
        (
          entryUser32, head, entryNtdll, user32Base, user32Size, "C:\\Windows\\SysWOW64\\user32.dll", "user32.dll",
          0xA60
        ),
      ]
    for e in strings {
      put32(u + e.next, e.entry)
      put32(u + e.prev, e.entry + 4)
      put32(e.base, e.entry + 0x18)
      put32(e.size, e.entry + 0x20)
      let full = Array(e.full.utf16).flatMap { le(UInt64($0), 2) }
      let short = Array(e.short.utf16).flatMap { le(UInt64($0), 2) }
      let shortAt = e.at + UInt64(full.count + 2)
      put(full, e.at)
      put(short, shortAt)
      for (field, bytes, at) in [(UInt64(0x24), full, e.at), (0x2C, short, shortAt)] {
        put(le(UInt64(bytes.count), 2) + le(UInt64(bytes.count + 2), 2) + le(u + at, 4), e.entry + field)
      }
    }
    // Tables: the clean one, and a copy with slot 0 pointing into private memory.
    for (i, slot) in slots.enumerated() {
      put32(slot, tableClean + 4 * UInt64(i))
      put32(i == 0 ? u + injected : slot, tableHijack + 4 * UInt64(i))
    }
    // A 32-bit loader list that loops: head → A → B → A.
    put32(u + loopEntryA, ldrLoop + 0x0C)
    put32(u + loopEntryB, ldrLoop + 0x10)
    put32(u + loopEntryB, loopEntryA)
    put32(u + loopEntryA, loopEntryB)
    return Array(page[0x800..<0x1000])
  }

  /// Writes `bytes` at `physical` in the copy.
  static func writeBytes(_ bytes: [UInt8], at physical: UInt64, in copy: PatchedImage) throws {
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: copy.path))
    defer { try? handle.close() }
    try handle.seek(toOffset: physical)
    try handle.write(contentsOf: Data(bytes))
  }

  /// Physical address of the 4 KiB page mapping `va` under `dtb` (raw page walk).
  static func pagePhysical(_ va: UInt64, dtb: UInt64, memory: any PhysicalMemory) throws -> UInt64 {
    try readPhysical(memory, try leafEntry(of: va, dtb: dtb, memory: memory)) & 0x000f_ffff_ffff_f000
  }

  static func build() throws -> (fixture: KernelFixture, volatilityWow64: [UInt64: Bool]) {
    let clean = try KernelFixture.image(name)
    let truth = try KernelFixture.truth(name)
    let offsets = try isfOffsets()
    let copy = try PatchedImage(copying: name)
    defer { copy.remove() }
    let kernelPhysical = try pagePhysical(kernelPage, dtb: try truth.address("dtb"), memory: clean.memory)
    var targets: [(eprocess: UInt64, ewow: UInt64)] = []
    var userPhysicals: Set<UInt64> = []
    for row in try truth.rows("processes") {
      let name = row["name"] as? String ?? ""
      let pid = (row["pid"] as? Int).map(UInt64.init)
      let ewow: UInt64
      if wow64Names.contains(name) {
        ewow = name == "notepad.exe" ? ewowHijack : ewowClean
      } else if pid == loopPid {
        ewow = ewowLoop
      } else {
        continue
      }
      let dtb = try #require(TestData.hex(row["dtb"]))
      userPhysicals.insert(try pagePhysical(userPage, dtb: dtb, memory: clean.memory))
      targets.append((try #require(TestData.hex(row["eprocess"])), ewow))
    }
    try #require(targets.count == 4)
    // The planted tail must be free (KUSER_SHARED_DATA is 0x720 bytes on this build).
    for physical in userPhysicals.union([kernelPhysical]) {
      let tail = try clean.memory.read(at: physical + 0x800, count: 0x800)
      try #require(tail.allSatisfy { $0 == 0 }, "page \(physical) tail not free")
    }
    let planted = userBytes(pebLdr: offsets.pebLdr, pebKct: offsets.pebKct)
    for physical in userPhysicals { try writeBytes(planted, at: physical + 0x800, in: copy) }
    for (ewow, peb) in [(ewowClean, peb32Clean), (ewowHijack, peb32Hijack), (ewowLoop, peb32Loop)] {
      try copy.write(userPage + peb, at: kernelPhysical + ewow + offsets.ewowPeb)
    }
    for target in targets {
      try copy.write(
        kernelPage + target.ewow, atVirtual: target.eprocess + offsets.wow64Process, in: clean.kernel.space)
    }
    return (try KernelFixture.open(path: copy.path), try volatilityWow64(image: copy.path))
  }

  static func checked() throws -> (gathered: [KernelCallbackTableScanner.Gathered], tables: [ProcessCallbackTable]) {
    let fixture = try patched()
    let (processes, _) = try ProcessList.read(fixture.kernel)
    let gathered = KernelCallbackTableScanner.gather(fixture.kernel, processes: processes)
    let expected = KernelCallbackTableScanner.majority(gathered, kernel: fixture.kernel)
    return (gathered, CallbackTableVerdicts.check(gathered, expected: expected, kernel: fixture.kernel))
  }

  @Test func wow64RowsCarryThe32BitTableAndUser32() throws {
    let (_, tables) = try Self.checked()
    let wow = tables.filter(\.wow64)
    #expect(Set(wow.map(\.process.name)) == Self.wow64Names)
    #expect(wow.count == 3)
    for row in wow {
      let user32 = try #require(row.user32, "\(row.process.name)")
      #expect(user32.base == Self.user32Base)
      #expect(user32.size == Self.user32Size)
      #expect(user32.source == "ldr32")
      #expect(user32.path == "C:\\Windows\\SysWOW64\\user32.dll")
      #expect(row.expected == Self.userPage + Self.tableClean)
      #expect(row.slots.count == Self.slotCount)
      if row.process.name == "notepad.exe" {
        #expect(row.table == Self.userPage + Self.tableHijack)
        #expect(row.flags == ["table-differs"])
        let flagged = row.slots.filter { !$0.flags.isEmpty }
        #expect(flagged.map(\.index) == [0])
        #expect(flagged.first?.routine == Self.userPage + Self.injected)
        #expect(
          Set(flagged.first?.flags.compactMap { Rule(rawValue: $0) } ?? [])
            == [.slotOutsideModule, .slotDiffers, .slotInPrivateMemory], "every flag is a Rule")
        #expect(row.slots.dropFirst().map(\.routine) == Array(Self.slots.dropFirst()))
      } else {
        #expect(row.table == Self.userPage + Self.tableClean)
        #expect(row.flags.isEmpty)
        #expect(row.slots.map(\.routine) == Self.slots)
        #expect(row.slots.allSatisfy { $0.flags.isEmpty && $0.module?.hasPrefix("user32.dll+0x") == true })
      }
    }
  }

  @Test func nativeRowsAreUnchanged() throws {
    let (_, tables) = try Self.checked()
    let truth = try KernelFixture.truth(Self.name)
    let native = tables.filter { !$0.wow64 }
    let guiRows = try truth.rows("processes").filter { $0["kernel_callback_table"] is String }
    #expect(native.count == guiRows.count)
    for row in guiRows {
      let table = try #require(native.first { Int($0.process.pid) == row["pid"] as? Int })
      #expect(table.table == TestData.hex(row["kernel_callback_table"]))
      #expect(table.expected == TestData.hex(try truth.object("user32")["apfnDispatch"]))
      #expect(table.user32?.base == TestData.hex(try truth.object("user32")["base"]))
    }
    let flagged = native.filter { !$0.flags.isEmpty || $0.slots.contains { !$0.flags.isEmpty } }
    #expect(flagged.map(\.process.name) == ["notepad.exe"])
  }

  @Test func wow64MajorityDiffersFromNative() throws {
    let fixture = try Self.patched()
    let (gathered, _) = try Self.checked()
    let native = try #require(KernelCallbackTableScanner.majority(gathered, kernel: fixture.kernel))
    let wow = try #require(KernelCallbackTableScanner.majority(gathered, kernel: fixture.kernel, wow64: true))
    #expect(wow.address == Self.userPage + Self.tableClean)
    #expect(wow.slots == Self.slots)
    #expect(native.address != wow.address)
  }

  @Test func volatilityAgreesWhichProcessesAreWow64() throws {
    let (fixture, volatility) = try Self.patchedWithOracle()
    let (processes, _) = try ProcessList.read(fixture.kernel)
    let ours = Set(processes.filter { ProcessModules.wow64Peb($0, kernel: fixture.kernel) != nil }.map(\.pid))
    #expect(volatility.count == processes.count)
    #expect(Set(volatility.filter(\.value).map(\.key)) == ours)
    #expect(ours.count == 4)
    #expect(ours.contains(Self.loopPid))
  }

  @Test func loopingWow64LoaderListIsCutWithAWarning() throws {
    let (gathered, tables) = try Self.checked()
    let entry = try #require(gathered.first { $0.wow64 && $0.process.pid == Self.loopPid })
    #expect(entry.table == 0)
    #expect(entry.modules.count == 2)
    let loopBack = String(Self.userPage + Self.loopEntryA, radix: 16)
    #expect(entry.warnings.contains { $0.contains("loops back to 0x\(loopBack)") }, "\(entry.warnings)")
    // No table: no row for it.
    #expect(!tables.contains { $0.process.pid == Self.loopPid })
  }
}
