// Issue 12 item 8: a member the profile lacks or a value that cannot be read is a named error or
// warning (struct.member, address, reason), never a silent 0. Each test takes a reference image's
// real profile and changes one answer — a member dropped, or moved far outside every mapping so its
// read fails — and checks what is reported against addresses computed from the image's own EPROCESS
// list and the truth file.

import Analysis
import BinaryReading
import Callbacks
import Symbols
import TestData
import Testing
import WindowsKernel

/// The real profile with some member answers replaced (`nil`: the member is missing).
struct EditedProfile: KernelProfile {
  let base: any KernelProfile
  let edits: [String: Int?]
  /// Symbols moved to another RVA.
  var symbolEdits: [String: UInt64] = [:]
  var identity: PDBIdentity { base.identity }
  var source: Provenance { base.source }
  var sourceDescription: String { base.sourceDescription + " (edited)" }
  func symbol(_ name: String) -> SymbolInfo? {
    guard let rva = symbolEdits[name] else { return base.symbol(name) }
    return SymbolInfo(name: name, rva: rva, provenance: .pdb)
  }
  func structSize(_ name: String) -> Int? { base.structSize(name) }
  func field(_ structName: String, _ fieldName: String) -> FieldInfo? {
    guard let edit = edits["\(structName).\(fieldName)"] else { return base.field(structName, fieldName) }
    guard let offset = edit else { return nil }
    // A member the profile lacks (a record the PDB does not describe) is answered with a plain ULONG.
    let original = base.field(structName, fieldName)
    return FieldInfo(
      offset: offset, type: original?.type ?? .base(name: "unsigned long", size: 4),
      bitPosition: original?.bitPosition, bitLength: original?.bitLength, provenance: .pdb)
  }
  func enumeration(_ name: String) -> [String: Int64]? { base.enumeration(name) }
  var symbolNames: [String] { base.symbolNames }
  var structNames: [String] { base.structNames }
  func fields(of structName: String) -> [String: FieldInfo]? { base.fields(of: structName) }
}

@Suite struct SilentZeroTests {
  /// An offset that puts any member of a kernel-pool structure into the non-canonical hole.
  static let unmappedOffset = 0x7fff_0000_0000_0000

  static func kernel(_ name: String, edits: [String: Int?]) throws -> (Kernel, Kernel) {
    let fixture = try KernelFixture.image(name)
    let real = fixture.kernel
    return (
      real, Kernel(space: real.space, image: real.image, profile: EditedProfile(base: real.profile, edits: edits))
    )
  }

  @Test func unreadablePebIsAWarningWithItsAddressNotAProcessWithoutPeb() throws {
    let (real, edited) = try Self.kernel("win10-19041-clean", edits: ["_EPROCESS.Peb": Self.unmappedOffset])
    let (processes, cleanWarnings) = try ProcessList.read(real)
    #expect(cleanWarnings.isEmpty)
    let (_, warnings) = try ProcessList.read(edited)
    #expect(warnings.count == processes.count, "\(warnings)")
    for process in processes {
      let va = process.eprocess &+ UInt64(Self.unmappedOffset)
      #expect(
        warnings.contains { $0.contains("_EPROCESS.Peb at \(Hex.format(va)) unreadable") },
        "\(process.name): \(warnings)")
    }
  }

  @Test func vadProtectionMissingFromTheProfileIsSaid() throws {
    let (real, edited) = try Self.kernel("win10-19041-clean", edits: ["_MMVAD_FLAGS.Protection": nil])
    let (processes, _) = try ProcessList.read(real)
    let process = try #require(processes.first { $0.name == "explorer.exe" })
    let (_, realWarnings) = try VadTree.read(process, kernel: real)
    #expect(realWarnings.isEmpty)
    let (vads, warnings) = try VadTree.read(process, kernel: edited)
    #expect(!vads.isEmpty)
    #expect(warnings.contains { $0.contains("_MMVAD_FLAGS.Protection") && $0.contains("protections read as 0") })
  }

  @Test func kernelCallbackTableOffsetMissingNamesTheMember() throws {
    let truth = try KernelFixture.truth("win10-19041-clean")
    let gui = try truth.rows("processes").filter { $0["kernel_callback_table"] is String }.compactMap {
      $0["pid"] as? Int
    }
    #expect(gui.count == 3)
    let (_, edited) = try Self.kernel("win10-19041-clean", edits: ["_PEB.KernelCallbackTable": nil])
    let (processes, _) = try ProcessList.read(edited)
    let gathered = KernelCallbackTableScanner.gather(edited, processes: processes)
    let tables = CallbackTableVerdicts.check(gathered, expected: nil, kernel: edited)
    // Every process with a PEB says why its table is unknown, the GUI ones among them.
    #expect(Set(gui).isSubset(of: Set(tables.map { Int($0.process.pid) })))
    for t in tables {
      #expect(t.table == 0)
      #expect(t.warnings.contains { $0.contains("_PEB.KernelCallbackTable is not in the kernel profile") })
    }
  }

  @Test func unreadableBugcheckDetailIsNullWithAWarningNamingMemberAndAddress() throws {
    let name = "win10-19041-clean"
    let (real, edited) = try Self.kernel(
      name, edits: ["_KBUGCHECK_CALLBACK_RECORD.Length": Self.unmappedOffset])
    let truth = try KernelFixture.truth(name)
    let truthRows = try truth.rows("callbacks").filter { $0["callscope_family"] as? String == "bugcheck" }
    #expect(!truthRows.isEmpty)
    func bugcheck(_ kernel: Kernel) throws -> FamilyResult {
      try #require(FamilyDescriptor.bugcheck.reader.collect(CallbackContext(kernel: kernel, build: 19041)).first)
    }
    let clean = try bugcheck(real)
    #expect(clean.warnings.isEmpty)
    #expect(clean.entries.allSatisfy { if case .int = $0.detail("length") { true } else { false } })
    let result = try bugcheck(edited)
    #expect(result.entries.count == truthRows.count)
    for entry in result.entries {
      #expect(entry.detail("length") == .null)
      let record = try #require(entry.object)
      let va = record &+ UInt64(Self.unmappedOffset)
      #expect(
        result.warnings.contains {
          $0.contains("record at \(Hex.format(record))")
            && $0.contains("_KBUGCHECK_CALLBACK_RECORD.Length at \(Hex.format(va)) unreadable")
        }, "\(result.warnings)")
    }
  }

  /// A process-notify counter the profile names but that cannot be read voids the count check with a
  /// warning; it used to count as 0 and raise count-mismatch against the truth's slots.
  @Test func unreadableNotifyCounterIsAWarningNotACountMismatch() throws {
    let fixture = try KernelFixture.image("win10-19041-clean")
    let real = fixture.kernel
    // An RVA that puts the counter into the non-canonical hole, whatever the kernel's base.
    let hole = UInt64(0x0000_9000_0000_0000) &- real.image.base
    let edited = Kernel(
      space: real.space, image: real.image,
      profile: EditedProfile(base: real.profile, edits: [:], symbolEdits: ["PspCreateProcessNotifyRoutineCount": hole]))
    let truth = try KernelFixture.truth("win10-19041-clean")
    let slots = try truth.rows("callbacks").filter { $0["callscope_family"] as? String == "process-notify" }.count
    #expect(slots > 0)
    let analysis = CallbackAnalysis(kernel: edited, build: 19041, selection: ["process-notify"])
    #expect(analysis.verdicts.rows.count == slots)
    #expect(!analysis.verdicts.familyFindings.contains { $0.rule == .countMismatch })
    #expect(
      analysis.warnings.contains {
        $0.contains("process-notify: counter not checked") && $0.contains("PspCreateProcessNotifyRoutineCount")
      }, "\(analysis.warnings)")
    let clean = CallbackAnalysis(kernel: real, build: 19041, selection: ["process-notify"])
    #expect(!clean.warnings.contains { $0.contains("counter not checked") })
  }

  /// A routine whose first bytes cannot be read is said to be unchecked for a patched prologue.
  @Test func unreadablePrologueIsAWarning() throws {
    let real = try KernelFixture.image("win10-19041-clean").kernel
    let routine: UInt64 = 0x0000_9000_0000_0000
    let entry = CallbackEntry(
      family: "process-notify", head: 0, headSymbol: "PspCreateProcessNotifyRoutine", index: 0, routine: routine,
      provenance: .pdb)
    let verdicts = CallbackVerdicts(
      results: [FamilyResult(family: "process-notify", entries: [entry])], kernel: real, modules: [], hidden: [])
    #expect(verdicts.rows.first?.prologue == nil)
    #expect(
      verdicts.warnings == [
        "process-notify: patched-prologue not checked for 1 routine(s) whose first bytes are unreadable: "
          + Hex.format(routine)
      ])
  }
}
