// The one merge of profiles (CompositeProfile.merging): layers asked in order, each answer keeping
// its layer's provenance, composites flattened, and declared layouts answering only what the
// symbol files lack.

import Symbols
import Testing

@Suite struct ProfileMergingTests {
  static let identity = PDBIdentity(name: "ntkrnlmp.pdb", guid: String(repeating: "0", count: 32), age: 1)

  /// KBUGCHECK_CALLBACK_RECORD as wdm.h declares it on x64: Entry +0, CallbackRoutine +0x10.
  static let declared = DeclaredLayoutProfile(
    identity: identity,
    layouts: [
      .init(name: "_KBUGCHECK_CALLBACK_RECORD", size: 0x30, offsets: ["Entry": 0, "CallbackRoutine": 0x10]),
      .init(name: "CM_CALLBACK_CONTEXT_BLOCK", size: 0x50, offsets: ["Function": 0x28]),
    ],
    description: "declared")

  /// A stand-in for a symbol file that describes the bugcheck record with another offset.
  static let symbolFile = DeclaredLayoutProfile(
    identity: identity,
    layouts: [.init(name: "_KBUGCHECK_CALLBACK_RECORD", size: 0x30, offsets: ["CallbackRoutine": 0x18])],
    description: "symbol file")

  @Test func earlierLayersWinAndDeclaredLayoutsFillTheGaps() {
    let merged = CompositeProfile.merging([Self.symbolFile, Self.declared], identity: Self.identity)
    #expect(merged.offset("_KBUGCHECK_CALLBACK_RECORD", "CallbackRoutine") == 0x18)
    #expect(merged.offset("_KBUGCHECK_CALLBACK_RECORD", "Entry") == 0)  // only declared has it
    #expect(merged.field("CM_CALLBACK_CONTEXT_BLOCK", "Function")?.provenance == .declared)
    #expect(merged.field("CM_CALLBACK_CONTEXT_BLOCK", "Cookie") == nil)
    #expect(merged.symbol("CallbackListHead") == nil)
  }

  @Test func aCompositeMergedAgainIsFlattenedWithItsNotes() {
    let loaded = CompositeProfile(identity: Self.identity, profiles: [Self.symbolFile], notes: ["skipped a.pdb"])
    let merged = CompositeProfile.merging([loaded, Self.declared], identity: Self.identity)
    #expect(merged.profiles.count == 2)
    #expect(merged.profiles.allSatisfy { !($0 is CompositeProfile) })
    #expect(merged.notes == ["skipped a.pdb"])
    #expect(merged.structSize("CM_CALLBACK_CONTEXT_BLOCK") == 0x50)
  }
}
