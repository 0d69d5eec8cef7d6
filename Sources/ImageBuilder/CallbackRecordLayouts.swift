// Layouts of the x64 callback records that ntoskrnl's public PDB does not describe, for writing them
// by field name. EX_CALLBACK_ROUTINE_BLOCK {RundownProtect, Function, Context}: ReactOS
// ntoskrnl/include/internal/ex.h and the public write-ups of PspCreateProcessNotifyRoutine.
// CM_CALLBACK_CONTEXT_BLOCK (Cookie +0x18, CallerContext +0x20, Function +0x28, Altitude +0x30): the
// public write-ups of CmRegisterCallbackEx on Windows 7–11 x64. KBUGCHECK_CALLBACK_RECORD: wdm.h.

extension LayoutTable {
  /// The undocumented x64 callback records the demo scenario plants.
  public static let callbackRecordsX64 = LayoutTable([
    StructLayout(
      name: "_EX_CALLBACK_ROUTINE_BLOCK", size: 0x18,
      fields: [
        "RundownProtect": .init(offset: 0x00, size: 8), "Function": .init(offset: 0x08, size: 8),
        "Context": .init(offset: 0x10, size: 8),
      ]),
    StructLayout(
      name: "_CM_CALLBACK_CONTEXT_BLOCK", size: 0x50,
      fields: [
        "CallbackListEntry": .init(offset: 0x00, size: 16), "PreCallListHead": .init(offset: 0x10, size: 4),
        "Cookie": .init(offset: 0x18, size: 8), "CallerContext": .init(offset: 0x20, size: 8),
        "Function": .init(offset: 0x28, size: 8), "Altitude": .init(offset: 0x30, size: 16),
        "ObjectContextListHead": .init(offset: 0x40, size: 16),
      ]),
    StructLayout(
      name: "_KBUGCHECK_CALLBACK_RECORD", size: 0x40,
      fields: [
        "Entry": .init(offset: 0x00, size: 16), "CallbackRoutine": .init(offset: 0x10, size: 8),
        "Buffer": .init(offset: 0x18, size: 8), "Length": .init(offset: 0x20, size: 4),
        "Component": .init(offset: 0x28, size: 8), "Checksum": .init(offset: 0x30, size: 8),
        "State": .init(offset: 0x38, size: 1),
      ]),
  ])

  /// This table with `other`'s layouts added; `other` wins where both describe a struct.
  public func merging(_ other: LayoutTable) -> LayoutTable {
    var merged = self
    merged.structs.merge(other.structs) { _, theirs in theirs }
    return merged
  }
}
