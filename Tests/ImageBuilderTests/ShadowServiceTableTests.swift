// The shadow-ssdt family on the 7601, 19041 and 22000 demo kernels: a GUI process (explorer.exe,
// EPROCESS.Win32Process set) whose own page tables map win32k.sys's session space — the kernel's
// tables do not — and a win32u.dll that clang and lld-link built with NtUser*/NtGdi* stubs
// (`mov eax, number; syscall`); KeServiceDescriptorTableShadow[1] at the build's ISF RVA points
// into win32k. Every entry is read through the GUI process, named from the stubs, and the one
// redirected outside win32k is flagged. Offsets from the ISF (python), the stubs' numbers from
// the C source, their RVAs from llvm-readobj.

import Analysis
import Callbacks
import Foundation
import ImageBuilder
import TestData
import Testing

@Suite struct ShadowServiceTableTests {
  static let builds = KernelTableFamiliesTests.builds
  static let win32uBase: UInt64 = 0x7FF8_1000_0000
  /// Session space: a top-level slot the kernel's tables leave empty.
  static let win32kBase: UInt64 = 0xFFFF_9A00_0010_0000
  static let stubs = [
    ("NtUserGetMessage", 0x1001), ("NtUserPeekMessage", 0x1002), ("NtGdiBitBlt", 0x1004),
    ("NtUserCallOneParam", 0x1005),
  ]

  static let win32u = Result {
    let source =
      stubs.map { name, number in
        """
        __declspec(dllexport) __attribute__((naked)) void \(name)(void) {
          __asm__ volatile("movq %rcx, %r10\\n\\tmovl $\(number), %eax\\n\\tsyscall\\n\\tret");
        }
        """
      }.joined(separator: "\n") + "\n"
    return try LinkedImage.build(source: source, fileName: "win32u.dll", base: win32uBase, label: "win32u")
  }

  @Test(arguments: builds)
  func readInTheGUIProcessAndNamedFromWin32u(_ build: CrossBuild) throws {
    let o = try KernelTableFamiliesTests.isf(
      build,
      [
        "s('KeServiceDescriptorTableShadow')", "f('_EPROCESS','Peb')", "f('_EPROCESS','Win32Process')",
        "f('_PEB','Ldr')", "f('_PEB_LDR_DATA','InLoadOrderModuleList')", "z('_PEB')", "z('_PEB_LDR_DATA')",
      ])
    let dll = try Self.win32u.get()
    let count = 6
    var routines: [UInt64] = []
    let (results, verdicts, _) = try KernelTableFamiliesTests.scan(build, seed: 0x55D7, families: ["shadow-ssdt"]) {
      b in
      // The GUI process: its own tables (the kernel half shared), win32k's session pages only there.
      let tables = try b.addProcess(name: "explorer.exe")
      try b.mapFreshPages(in: tables, va: Self.win32kBase, length: 0x4000, flags: [.writable])
      try b.appendLoaderEntry(
        name: "win32k.sys", path: "\\SystemRoot\\System32\\win32k.sys", base: Self.win32kBase, size: 0x4000,
        entryPoint: Self.win32kBase + 0x1000)
      let table = Self.win32kBase + 0x2000
      var entries: [UInt8] = []
      for index in 0..<count {
        // Entry 3 is redirected 16 MiB past win32k, out of every module.
        let routine = index == 3 ? Self.win32kBase + 0x100_0000 : Self.win32kBase + 0x1000 + UInt64(index) * 0x40
        routines.append(routine)
        let value = UInt32(truncatingIfNeeded: Int64(bitPattern: routine &- table) << 4) | UInt32(index % 4)
        entries += withUnsafeBytes(of: value.littleEndian, Array.init)
      }
      try tables.write(entries, at: table)
      let descriptor = b.truth.kernelBase + o[0] + 0x20  // [1]; KSERVICE_TABLE_DESCRIPTOR is 0x20 bytes (WRK ke.h)
      try b.writeLE(table, at: descriptor)
      try b.writeLE(UInt32(count), at: descriptor + 0x10)
      // win32u.dll at its preferred base, and PEB → Ldr → its loader entry.
      try b.mapFreshPages(
        in: tables, va: dll.imageBase, length: (dll.sizeOfImage + 0xFFF) & ~0xFFF, flags: [.writable, .user])
      try tables.write(dll.headers, at: dll.imageBase)
      for section in dll.sections { try tables.write(section.bytes, at: dll.imageBase + section.rva) }
      let peb: UInt64 = 0x0000_00F1_0000_0000
      try b.mapFreshPages(in: tables, va: peb, length: 0x3000, flags: [.writable, .user])
      let ldr = peb + 0x1000
      let entry = peb + 0x2000
      try tables.write(withUnsafeBytes(of: ldr.littleEndian, Array.init), at: peb + o[3])
      var module = try b.instance("_LDR_DATA_TABLE_ENTRY")
      try module.set("DllBase", dll.imageBase)
      try module.set("SizeOfImage", dll.sizeOfImage)
      let name = Array("win32u.dll".utf16).flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
      try tables.write(name, at: entry + 0x800)
      for field in ["FullDllName", "BaseDllName"] {
        var string = try b.instance("_UNICODE_STRING")
        try string.set("Length", UInt64(name.count))
        try string.set("MaximumLength", UInt64(name.count))
        try string.set("Buffer", entry + 0x800)
        try module.set(field, string)
      }
      let links = UInt64(try module.layout.field("InLoadOrderLinks").offset)
      let head = ldr + o[4]
      try tables.write(module.bytes.bytes, at: entry)
      for (at, flink, blink) in [(head, entry + links, entry + links), (entry + links, head, head)] {
        try tables.write(withUnsafeBytes(of: flink.littleEndian, Array.init), at: at)
        try tables.write(withUnsafeBytes(of: blink.littleEndian, Array.init), at: at + 8)
      }
      // Its EPROCESS, linked last in PsActiveProcessHead.
      var pcb = try b.instance("_KPROCESS")
      try pcb.set("DirectoryTableBase", tables.root)
      var eprocess = try b.instance("_EPROCESS")
      try eprocess.set("Pcb", pcb)
      try eprocess.set("UniqueProcessId", 0xA10)
      try eprocess.set("ImageFileName", bytes: Array("explorer.exe".utf8))
      let va = try b.allocate(eprocess)
      try b.writeLE(peb, at: va + o[1])
      try b.writeLE(UInt64(0xFFFF_E9BE_0BAD_0000), at: va + o[2])  // Win32Process: set
      let link = va + UInt64(try eprocess.layout.field("ActiveProcessLinks").offset)
      let processes = try b.symbolAddress("PsActiveProcessHead")
      let last = try b.readPointer(processes + 8)
      try b.writeLE(processes, at: link)
      try b.writeLE(last, at: link + 8)
      try b.writeLE(link, at: last)
      try b.writeLE(link, at: processes + 8)
    }
    let result = try #require(results.first)
    #expect(result.notLocated == nil, "\(result.notLocated ?? "")")
    #expect(result.warnings.isEmpty, "\(result.warnings)")
    #expect(result.entries.map(\.routine) == routines)
    #expect(result.entries.map(\.index) == Array(0x1000..<(0x1000 + count)))
    #expect(result.entries.allSatisfy { $0.detail("readInProcess") == .string("explorer.exe (2576)") })
    var named: [Int: String] = [:]
    for e in result.entries { if case .string(let n)? = e.detail("service"), let i = e.index { named[i] = n } }
    #expect(named == Dictionary(uniqueKeysWithValues: Self.stubs.map { ($0.1, $0.0) }))
    let flagged = verdicts.rows.filter { $0.flags.contains("outside-expected-module") }.map(\.entry.index)
    #expect(flagged == [0x1003])
  }
}
