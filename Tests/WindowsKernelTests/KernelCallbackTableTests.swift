// KernelCallbackTable checks on the kct-hijack and clean images against the truth: which process
// and which slot are flagged, the table value, user32's range, the majority expectation
// (user32!apfnDispatch with its entry count), the RWX VAD, and the expectation from a user32
// profile (expected(fromPDB:…)) naming the slots.

import Analysis
import Callbacks
import Symbols
import TestData
import Testing
import WindowsKernel

@Suite struct KernelCallbackTableTests {
  static let hijack = "win10-19041-kct-hijack"
  static let clean = "win10-19041-clean"

  /// The majority expectation and the checked tables of an image.
  static func checked(_ name: String) throws -> (
    fixture: KernelFixture, gathered: [KernelCallbackTableScanner.Gathered], expected: ExpectedCallbackTable?,
    tables: [ProcessCallbackTable]
  ) {
    let fixture = try KernelFixture.image(name)
    let (processes, _) = try ProcessList.read(fixture.kernel)
    let gathered = KernelCallbackTableScanner.gather(fixture.kernel, processes: processes)
    let expected = KernelCallbackTableScanner.majority(gathered, kernel: fixture.kernel)
    let tables = CallbackTableVerdicts.check(gathered, expected: expected, kernel: fixture.kernel)
    return (fixture, gathered, expected, tables)
  }

  static func isFlagged(_ table: ProcessCallbackTable) -> Bool {
    !table.flags.isEmpty || table.slots.contains { !$0.flags.isEmpty }
  }

  @Test func hijackFlagsExactlyNotepadSlotZero() throws {
    let (_, _, expected, tables) = try Self.checked(Self.hijack)
    let truth = try KernelFixture.truth(Self.hijack)
    let notepadRow = try truth.process(named: "notepad.exe")
    let guiRows = try truth.rows("processes").filter { $0["kernel_callback_table"] is String }
    #expect(Set(tables.map { Int($0.process.pid) }) == Set(guiRows.compactMap { $0["pid"] as? Int }))

    let flagged = tables.filter(Self.isFlagged)
    #expect(flagged.map(\.process.name) == ["notepad.exe"])
    let notepad = try #require(flagged.first)
    #expect(notepad.process.pid == (notepadRow["pid"] as? Int).map(UInt64.init))
    #expect(notepad.table == TestData.hex(notepadRow["kernel_callback_table"]))
    #expect(Set(notepad.flags) == ["table-outside-user32", "table-differs"])

    let user32 = try truth.object("user32")
    #expect(notepad.user32?.base == TestData.hex(user32["base"]))
    #expect(notepad.user32?.size == TestData.hex(user32["size"]))

    let differs = try #require(notepadRow["kct_differs"] as? [[String: Any]])
    let flaggedSlots = notepad.slots.filter { !$0.flags.isEmpty }
    #expect(flaggedSlots.map(\.index) == differs.compactMap { $0["slot"] as? Int })
    #expect(flaggedSlots.map(\.index) == [0])
    let slot = try #require(flaggedSlots.first)
    #expect(Set(slot.flags) == ["slot-outside-module", "slot-differs", "slot-in-private-rwx"])
    #expect(slot.routine == TestData.hex(differs.first?["value"]))
    #expect(slot.module == nil)
    #expect(expected?.slots.first == TestData.hex(differs.first?["expected"]))
    #expect(notepad.slots.count == user32["entries"] as? Int)
  }

  @Test(arguments: [hijack, clean])
  func majorityExpectationIsApfnDispatch(_ name: String) throws {
    let (_, _, expected, tables) = try Self.checked(name)
    let user32 = try KernelFixture.truth(name).object("user32")
    let table = try #require(expected)
    #expect(table.source == "majority")
    #expect(table.address == TestData.hex(user32["apfnDispatch"]))
    let base = try #require(TestData.hex(user32["base"]))
    #expect(table.address - base == TestData.hex(user32["apfnDispatch_rva"]))
    #expect(table.slots.count == user32["entries"] as? Int)
    let size = try #require(TestData.hex(user32["size"]))
    #expect(table.slots.allSatisfy { $0 >= base && $0 - base < size })
    for t in tables where t.process.name != "notepad.exe" || name == Self.clean {
      #expect(t.table == table.address, "\(t.process.name)")
    }
  }

  @Test func cleanImageFlagsNothing() throws {
    let (_, gathered, _, tables) = try Self.checked(Self.clean)
    let truth = try KernelFixture.truth(Self.clean)
    #expect(tables.count == (try truth.rows("processes").filter { $0["kernel_callback_table"] is String }.count))
    #expect(tables.count == 3)
    for t in tables {
      #expect(!Self.isFlagged(t), "\(t.process.name): \(t.flags) \(t.slots.filter { !$0.flags.isEmpty })")
      #expect(t.slots.allSatisfy { $0.module?.hasPrefix("user32.dll+") == true })
    }
    #expect(gathered.count == 15)
  }

  @Test func rwxRegionVadIsExecuteReadWrite() throws {
    let fixture = try KernelFixture.image(Self.hijack)
    let truth = try KernelFixture.truth(Self.hijack)
    let row = try truth.process(named: "notepad.exe")
    let (processes, _) = try ProcessList.read(fixture.kernel)
    let notepad = try #require(processes.first { $0.name == "notepad.exe" })
    let (vads, warnings) = try VadTree.read(notepad, kernel: fixture.kernel)
    #expect(warnings.isEmpty)
    let truthVads = try #require(row["vads"] as? [[String: Any]])
    #expect(vads.count == truthVads.count)
    for (vad, expected) in zip(vads, truthVads) {
      #expect(vad.start == TestData.hex(expected["start"]))
      #expect(vad.end == TestData.hex(expected["end"]))
      #expect(vad.node == TestData.hex(expected["vad"]))
      #expect(vad.protectionName == expected["protection"] as? String)
      #expect(vad.protection == expected["protection_index"] as? Int)
      #expect(vad.privateMemory == (expected["private_memory"] as? Int == 1))
      // File names need _SUBSECTION / _CONTROL_AREA / _FILE_OBJECT, which the bundled profile lacks:
      // checked in vadFileNamesWithISFOnTheSymbolPath.
    }
    let hijack = try #require(row["kct_hijack"] as? [String: Any])
    let region = try #require(TestData.hex(hijack["rwx_region"]))
    let regionSize = try #require(TestData.hex(hijack["rwx_size"]))
    let rwx = try #require(vads.first { $0.contains(region) })
    #expect(rwx.start == region)
    #expect(rwx.end == region + regionSize - 1)
    #expect(rwx.protectionName == "PAGE_EXECUTE_READWRITE")
    #expect(rwx.isWritableExecutable)
    #expect(rwx.privateMemory)
  }

  /// With the build's ISF given on the symbol path (as `--symbols FILE` does), image-backed VADs name
  /// their files (MMVAD → SUBSECTION → CONTROL_AREA → FILE_OBJECT.FileName).
  @Test func vadFileNamesWithISFOnTheSymbolPath() throws {
    let fixture = try KernelFixture.image(Self.hijack)
    let truth = try KernelFixture.truth(Self.hijack)
    let profile = try ProfileLoader.load(
      identity: fixture.kernel.image.pdb,
      symbolPath: try SymbolPath.resolve(symbols: [TestData.shared(ISFOffsets.isf).path], environment: [:]),
      offline: true, openPDB: { try PDBProfile(path: $0) })
    let kernel = Kernel(space: fixture.kernel.space, image: fixture.kernel.image, profile: profile)
    let (processes, _) = try ProcessList.read(kernel)
    var compared = 0
    for row in try truth.rows("processes") {
      guard let truthVads = row["vads"] as? [[String: Any]],
        let process = processes.first(where: { $0.eprocess == TestData.hex(row["eprocess"]) })
      else { continue }
      let (vads, warnings) = try VadTree.read(process, kernel: kernel)
      #expect(warnings.isEmpty)
      #expect(vads.map(\.fileName) == truthVads.map { $0["file"] as? String }, "\(process.name)")
      compared += truthVads.filter { $0["file"] is String }.count
    }
    #expect(compared > 30)
  }

  /// expected(fromPDB:…) on the image, with a user32 profile holding the truth's apfnDispatch RVA and
  /// the slot-0 routine's name and RVA: the table address, the slots and the slot-0 name.
  @Test func expectationFromUser32ProfileNamesTheSlots() throws {
    let (fixture, gathered, _, _) = try Self.checked(Self.hijack)
    let truth = try KernelFixture.truth(Self.hijack)
    let user32Row = try truth.object("user32")
    let base = try #require(TestData.hex(user32Row["base"]))
    let differs = try #require(try truth.process(named: "notepad.exe")["kct_differs"] as? [[String: Any]])
    let slot0 = try #require(differs.first)
    let slot0Name = try #require(slot0["name"] as? String)
    let slot0Address = try #require(TestData.hex(slot0["expected"]))
    let profile = FixedProfile(symbols: [
      "apfnDispatch": try #require(TestData.hex(user32Row["apfnDispatch_rva"])),
      slot0Name: slot0Address - base,
      "NotACallback": slot0Address - base,
    ])
    let host = try #require(gathered.first { $0.process.name == "explorer.exe" })
    let user32 = try #require(host.user32)
    let expected = try #require(
      KernelCallbackTableScanner.expected(
        fromPDB: profile, user32: user32, process: host.process, kernel: fixture.kernel))
    #expect(expected.source == "pdb")
    #expect(expected.address == TestData.hex(user32Row["apfnDispatch"]))
    #expect(expected.slots.count == user32Row["entries"] as? Int)
    #expect(expected.slots.first == slot0Address)
    // Every public at the routine's address names the slot, the callback-like name first.
    #expect(expected.names[0] == [slot0Name, "NotACallback"])
    #expect(expected.names.values.allSatisfy { $0 == [slot0Name, "NotACallback"] })
    #expect(expected.nameSource == "pdb")

    let withoutDispatch = FixedProfile(symbols: [slot0Name: slot0Address - base])
    #expect(
      KernelCallbackTableScanner.expected(
        fromPDB: withoutDispatch, user32: user32, process: host.process, kernel: fixture.kernel) == nil)
  }
}

/// A user32 profile with a fixed symbol table (only symbols; no types).
struct FixedProfile: KernelProfile {
  let symbols: [String: UInt64]
  var identity: PDBIdentity { PDBIdentity(name: "user32.pdb", guid: "00000000000000000000000000000000", age: 1) }
  var source: Provenance { .pdb }
  var sourceDescription: String { "test" }
  func symbol(_ name: String) -> SymbolInfo? {
    symbols[name].map { SymbolInfo(name: name, rva: $0, provenance: .pdb) }
  }
  func structSize(_ name: String) -> Int? { nil }
  func field(_ structName: String, _ fieldName: String) -> FieldInfo? { nil }
  func enumeration(_ name: String) -> [String: Int64]? { nil }
  var symbolNames: [String] { Array(symbols.keys) }
  var structNames: [String] { [] }
  func fields(of structName: String) -> [String: FieldInfo]? { nil }
}
