// Deliberately broken copies of the clean image, one defect each (raw image: file offset =
// physical address; virtual addresses translated with the clean image's page tables, field offsets
// from the ISF via python): a looping PsLoadedModuleList, a module name with Length 0xFFFF, a
// smeared EPROCESS, an unmapped PEB page, a looping PEB.Ldr list and a looping object-directory
// bucket chain. Each must give partial results and a warning, never a crash or a hang.

import AddressSpace
import Analysis
import Callbacks
import MemoryImage
import TestData
import Testing
import WindowsKernel

@Suite(.timeLimit(.minutes(1))) struct BadInputTests {
  static let clean = "win10-19041-clean"

  /// A patched copy of the clean image, opened like the CLI opens an image, then removed.
  static func withPatched(
    _ patch: (PatchedImage, KernelFixture, Truth) throws -> Void, check: (KernelFixture, Truth) throws -> Void
  ) throws {
    let clean = try KernelFixture.image(Self.clean)
    let truth = try KernelFixture.truth(Self.clean)
    let copy = try PatchedImage(copying: Self.clean)
    defer { copy.remove() }
    try patch(copy, clean, truth)
    try check(try KernelFixture.open(path: copy.path), truth)
  }

  static func listedModules(_ truth: Truth) throws -> [[String: Any]] {
    try truth.rows("modules").filter { $0["in_PsLoadedModuleList"] as? Bool == true }
  }

  @Test func loopingModuleListIsRecoveredBackwards() throws {
    try Self.withPatched { copy, clean, truth in
      let rows = try Self.listedModules(truth)
      let links = try ISFOffsets.offset("_KLDR_DATA_TABLE_ENTRY", "InLoadOrderLinks")
      let from = try #require(TestData.hex(rows[10]["ldr_entry"]))
      let to = try #require(TestData.hex(rows[3]["ldr_entry"]))
      let flink = try ISFOffsets.offset("_LIST_ENTRY", "Flink")
      try copy.write(to + links, atVirtual: from + links + flink, in: clean.kernel.space)
    } check: { patched, truth in
      let rows = try Self.listedModules(truth)
      let (modules, warnings) = try ModuleList.read(patched.kernel)
      #expect(modules.map(\.base) == rows.compactMap { TestData.hex($0["base"]) })
      #expect(modules.map(\.name) == rows.compactMap { $0["name"] as? String })
      #expect(warnings.count == 1)
      #expect(warnings.first?.contains("PsLoadedModuleList") == true, "\(warnings)")
      #expect(warnings.first?.contains("loops back") == true, "\(warnings)")
    }
  }

  @Test func loopingModuleListInBothDirectionsGivesPartialResults() throws {
    try Self.withPatched { copy, clean, truth in
      let rows = try Self.listedModules(truth)
      let links = try ISFOffsets.offset("_KLDR_DATA_TABLE_ENTRY", "InLoadOrderLinks")
      let entry = { (i: Int) throws -> UInt64 in try #require(TestData.hex(rows[i]["ldr_entry"])) + links }
      try copy.write(
        try entry(3), atVirtual: try entry(6) + ISFOffsets.offset("_LIST_ENTRY", "Flink"), in: clean.kernel.space)
      try copy.write(
        try entry(12), atVirtual: try entry(9) + ISFOffsets.offset("_LIST_ENTRY", "Blink"), in: clean.kernel.space)
    } check: { patched, truth in
      let rows = try Self.listedModules(truth)
      let (modules, warnings) = try ModuleList.read(patched.kernel)
      // Forward reaches 0…6, backward reaches 15…9: 7 and 8 are lost, nothing is doubled.
      let expected = rows.enumerated().filter { $0.offset != 7 && $0.offset != 8 }.compactMap {
        TestData.hex($0.element["base"])
      }
      #expect(Set(modules.map(\.base)) == Set(expected))
      #expect(modules.count == expected.count)
      #expect(warnings.count == 1)
      #expect(warnings.first?.contains("PsLoadedModuleList") == true, "\(warnings)")
    }
  }

  @Test func absurdModuleNameLengthBecomesAWarning() throws {
    let victim = 5
    try Self.withPatched { copy, clean, truth in
      let rows = try Self.listedModules(truth)
      let entry = try #require(TestData.hex(rows[victim]["ldr_entry"]))
      let name = entry + (try ISFOffsets.offset("_KLDR_DATA_TABLE_ENTRY", "BaseDllName"))
      try copy.write(
        0xffff, width: 2, atVirtual: name + ISFOffsets.offset("_UNICODE_STRING", "Length"), in: clean.kernel.space)
      // The buffer points at the kernel's MZ header: readable, but not a name.
      try copy.write(
        try truth.address("kernel_base"), atVirtual: name + ISFOffsets.offset("_UNICODE_STRING", "Buffer"),
        in: clean.kernel.space)
    } check: { patched, truth in
      let rows = try Self.listedModules(truth)
      let (modules, warnings) = try ModuleList.read(patched.kernel)
      #expect(modules.count == rows.count)
      for (module, row) in zip(modules, rows) {
        #expect(module.base == TestData.hex(row["base"]))
        #expect(module.size == TestData.hex(row["size"]))
        #expect(module.path == row["full_name"] as? String)
        // The victim's name falls back to the last component of its intact FullDllName.
        #expect(module.name == row["name"] as? String)
      }
      let entry = try #require(TestData.hex(rows[victim]["ldr_entry"]))
      #expect(warnings.count == 1)
      #expect(warnings.first?.contains(hexText(entry)) == true, "\(warnings)")
      #expect(warnings.first?.contains("0xffff") == true, "\(warnings)")
    }
  }

  @Test func smearedEprocessIsDroppedWithAWarning() throws {
    let victim = "svchost.exe"
    try Self.withPatched { copy, clean, truth in
      let row = try truth.process(named: victim)
      let eprocess = try #require(TestData.hex(row["eprocess"]))
      let pid = eprocess + (try ISFOffsets.offset("_EPROCESS", "UniqueProcessId"))
      try copy.write(0xdead_beef_1234_5677, atVirtual: pid, in: clean.kernel.space)
    } check: { patched, truth in
      let rows = try truth.rows("processes")
      let victimRow = try truth.process(named: victim)
      let (processes, warnings) = try ProcessList.read(patched.kernel)
      let survivors = rows.filter { $0["eprocess"] as? String != victimRow["eprocess"] as? String }
      #expect(processes.count == rows.count - 1)
      #expect(processes.map(\.eprocess) == survivors.compactMap { TestData.hex($0["eprocess"]) })
      #expect(processes.map { Int($0.pid) } == survivors.compactMap { $0["pid"] as? Int })
      #expect(warnings.count == 1)
      let eprocess = try #require(TestData.hex(victimRow["eprocess"]))
      #expect(warnings.first?.contains(hexText(eprocess)) == true, "\(warnings)")
      #expect(warnings.first?.contains("0xdeadbeef12345677") == true, "\(warnings)")
    }
  }

  @Test func unmappedPebWarnsForThatProcessOnly() throws {
    let victim = "explorer.exe"
    let clean = try KernelFixture.image(Self.clean)
    let (cleanProcesses, _) = try ProcessList.read(clean.kernel)
    let cleanGathered = KernelCallbackTableScanner.gather(clean.kernel, processes: cleanProcesses)
    try Self.withPatched { copy, clean, truth in
      let row = try truth.process(named: victim)
      let peb = try #require(TestData.hex(row["peb"]))
      let dtb = try #require(TestData.hex(row["dtb"]))
      try copy.write(0, at: try leafEntry(of: peb, dtb: dtb, memory: clean.memory))
    } check: { patched, truth in
      let (processes, processWarnings) = try ProcessList.read(patched.kernel)
      #expect(processWarnings.isEmpty)
      #expect(processes.count == cleanProcesses.count)
      let gathered = KernelCallbackTableScanner.gather(patched.kernel, processes: processes)
      #expect(gathered.count == cleanGathered.count)
      for (g, c) in zip(gathered, cleanGathered) {
        if g.process.name == victim {
          #expect(g.table == 0)
          #expect(g.warnings.count > c.warnings.count)
          #expect(g.warnings.contains { $0.contains("KernelCallbackTable") }, "\(g.warnings)")
        } else {
          #expect(g.warnings == c.warnings, "\(g.process.name)")
          #expect(g.table == c.table, "\(g.process.name)")
        }
      }
      let checked = CallbackTableVerdicts.check(
        gathered, expected: KernelCallbackTableScanner.majority(gathered, kernel: patched.kernel),
        kernel: patched.kernel)
      #expect(checked.filter { $0.table != 0 }.map(\.process.name).sorted() == ["notepad.exe", "winlogon.exe"])
      #expect(checked.allSatisfy { $0.flags.isEmpty && $0.slots.allSatisfy { $0.flags.isEmpty } })
    }
  }

  @Test func loopingLdrListIsRecoveredBackwards() throws {
    let victim = "winlogon.exe"
    try Self.withPatched { copy, clean, truth in
      let row = try truth.process(named: victim)
      let order = try #require((row["ldr"] as? [String: Any])?["load_order"] as? [[String: Any]])
      let links = try ISFOffsets.offset("_LDR_DATA_TABLE_ENTRY", "InLoadOrderLinks")
      let from = try #require(TestData.hex(order[4]["entry"])) + links
      let to = try #require(TestData.hex(order[1]["entry"])) + links
      let (processes, _) = try ProcessList.read(clean.kernel)
      let process = try #require(processes.first { $0.name == victim })
      let space = ProcessList.addressSpace(of: process, kernel: clean.kernel)
      try copy.write(to, atVirtual: from + ISFOffsets.offset("_LIST_ENTRY", "Flink"), in: space)
    } check: { patched, truth in
      let row = try truth.process(named: victim)
      let order = try #require((row["ldr"] as? [String: Any])?["load_order"] as? [[String: Any]])
      let (processes, _) = try ProcessList.read(patched.kernel)
      let process = try #require(processes.first { $0.name == victim })
      let (modules, warnings) = try ProcessModules.native(process, kernel: patched.kernel)
      #expect(modules.map(\.name) == order.compactMap { $0["name"] as? String })
      #expect(modules.map(\.base) == order.compactMap { TestData.hex($0["base"]) })
      #expect(modules.map(\.path) == order.compactMap { $0["full_name"] as? String })
      #expect(warnings.count == 1)
      #expect(warnings.first?.contains("loops back") == true, "\(warnings)")
    }
  }

  @Test func loopingDirectoryChainKeepsEveryObjectOnce() throws {
    try Self.withPatched { copy, clean, _ in
      // The longest bucket chain: its last entry's ChainLink is pointed back at its first entry.
      let chain = try ISFOffsets.offset("_OBJECT_DIRECTORY_ENTRY", "ChainLink")
      let best = try Self.longestCallbackChain(clean)
      let first = try #require(best.first)
      let last = try #require(best.last)
      try copy.write(first, atVirtual: last + chain, in: clean.kernel.space)
    } check: { patched, truth in
      let manager = try ObjectManager(kernel: patched.kernel)
      let directory = try manager.lookup("\\Callback")
      let (objects, warnings) = manager.entries(ofDirectory: directory.address)
      let expected = try truth.object("callback_objects")
      #expect(objects.count == expected.count)
      #expect(Set(objects.compactMap(\.name)) == Set(expected.keys))
      #expect(warnings.count == 1)
      #expect(warnings.first?.contains("chain loops") == true, "\(warnings)")
    }
  }
}

extension BadInputTests {
  /// The longest bucket chain of `\Callback` in the clean image (entry addresses, in chain order).
  static func longestCallbackChain(_ clean: KernelFixture) throws -> [UInt64] {
    let directory = try ObjectManager(kernel: clean.kernel).lookup("\\Callback").address
    let buckets = try ISFOffsets.offset("_OBJECT_DIRECTORY", "HashBuckets")
    let chain = try ISFOffsets.offset("_OBJECT_DIRECTORY_ENTRY", "ChainLink")
    var best: [UInt64] = []
    for bucket in 0..<37 {
      var entries: [UInt64] = []
      var entry = try clean.kernel.readPointer(directory + buckets + UInt64(bucket) * 8)
      while entry != 0, entries.count < 64 {
        entries.append(entry)
        entry = try clean.kernel.readPointer(entry + chain)
      }
      if entries.count > best.count { best = entries }
    }
    return best
  }

  @Test func unreadableObjectDoesNotEndItsBucketChain() throws {
    let clean = try KernelFixture.image(Self.clean)
    let chain = try Self.longestCallbackChain(clean)
    try #require(chain.count >= 2, "the test needs a bucket holding two objects")
    let victim = chain[0]
    let victimBody = try clean.kernel.readPointer(victim + ISFOffsets.offset("_OBJECT_DIRECTORY_ENTRY", "Object"))
    try Self.withPatched { copy, clean, _ in
      // The first entry's Object points into unmapped kernel space.
      let object = try ISFOffsets.offset("_OBJECT_DIRECTORY_ENTRY", "Object")
      try copy.write(0xffff_8000_dead_0000, atVirtual: victim + object, in: clean.kernel.space)
    } check: { patched, truth in
      let manager = try ObjectManager(kernel: patched.kernel)
      let (objects, warnings) = manager.entries(ofDirectory: try manager.lookup("\\Callback").address)
      var expected: [String: UInt64] = [:]
      for (key, value) in try truth.object("callback_objects") { expected[key] = TestData.hex(value) }
      let lost = expected.filter { $0.value == victimBody }
      #expect(lost.count == 1)
      #expect(objects.count == expected.count - 1)
      #expect(Set(objects.compactMap(\.name)) == Set(expected.keys).subtracting(lost.keys))
      #expect(warnings.count == 1)
      #expect(warnings.first?.contains(hexText(victim)) == true, "\(warnings)")
    }
  }

  @Test func invertedVadRangeIsSkippedWithAWarning() throws {
    let victim = "notepad.exe"
    let truth = try KernelFixture.truth(Self.clean)
    let row = try truth.process(named: victim)
    let truthVads = try #require(row["vads"] as? [[String: Any]])
    let index = try #require(truthVads.firstIndex { ($0["file"] as? String)?.hasSuffix("user32.dll") == true })
    let node = try #require(TestData.hex(truthVads[index]["vad"]))
    try Self.withPatched { copy, clean, _ in
      // StartingVpn above EndingVpn.
      try copy.write(
        0xffff_fff0, width: 4, atVirtual: node + ISFOffsets.offset("_MMVAD_SHORT", "StartingVpn"),
        in: clean.kernel.space)
    } check: { patched, truth in
      let (processes, _) = try ProcessList.read(patched.kernel)
      let process = try #require(processes.first { $0.name == victim })
      let (vads, warnings) = try VadTree.read(process, kernel: patched.kernel)
      var expected = truthVads
      expected.remove(at: index)
      #expect(vads.map(\.start) == expected.compactMap { TestData.hex($0["start"]) })
      #expect(vads.map(\.end) == expected.compactMap { TestData.hex($0["end"]) })
      #expect(warnings.count == 1)
      #expect(warnings.first?.contains(hexText(node)) == true, "\(warnings)")
      // The KernelCallbackTable check still finds user32 through the loader list.
      let gathered = KernelCallbackTableScanner.gather(patched.kernel, processes: [process])
      #expect(gathered.first?.user32?.base == TestData.hex(try truth.object("user32")["base"]))
    }
  }
}

/// Physical address of the 4 KiB leaf PTE mapping `va` under the x64 4-level root `dtb`, walked
/// here from raw reads (Intel SDM vol. 3, 4.5: PML4E, PDPTE, PDE, PTE; bits 51:12 hold the next
/// table; PS (bit 7) marks a large page, which the PEB page is not).
func leafEntry(of va: UInt64, dtb: UInt64, memory: any PhysicalMemory) throws -> UInt64 {
  var table = dtb & 0x000f_ffff_ffff_f000
  for shift in [39, 30, 21] as [UInt64] {
    let entry = try readPhysical(memory, table + ((va >> shift) & 0x1ff) * 8)
    try #require(entry & 1 == 1, "level at shift \(shift) not present")
    try #require(entry & 0x80 == 0, "large page at shift \(shift)")
    table = entry & 0x000f_ffff_ffff_f000
  }
  let pte = table + ((va >> 12) & 0x1ff) * 8
  try #require(try readPhysical(memory, pte) & 1 == 1)
  return pte
}
