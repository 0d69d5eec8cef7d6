// The object-other family: object callbacks on every type other than Process, Thread and Desktop.
// Windows offers ObRegisterCallbacks for those three only; a CallbackList entry on any other type
// (File, Key, Section …) means something set SupportsObjectCallbacks on it, or linked a block in by
// hand — a known way to watch or veto file and registry handle operations unseen. Types come from
// ObTypeIndexTable; the records are the OB_CALLBACK_ENTRY of the three object-* families.

import BinaryReading
import Symbols
import WindowsKernel

extension FamilyDescriptor {
  /// OB_CALLBACK_ENTRY records on the CallbackList of every other object type.
  public static let objectOther = FamilyDescriptor(
    id: "object-other", title: "Object callbacks on any other object type",
    registration: "ObRegisterCallbacks after setting SupportsObjectCallbacks, or a block linked by hand",
    heads: [FamilyHead("ObTypeIndexTable", .kernelModel)],
    structs: ["_OBJECT_TYPE", "_OBJECT_TYPE_INITIALIZER", "_OB_CALLBACK_ENTRY"],
    rules: [ObjectOtherReader.unusualType],
    reader: ObjectOtherReader())
}

/// Reads the CallbackList of every type in ObTypeIndexTable but the three that offer callbacks.
public struct ObjectOtherReader: CallbackFamily {
  public var ids: [String] { ["object-other"] }
  public init() {}

  /// Object callbacks on a type Windows does not offer them for.
  public static let unusualType = VerdictRule(
    "object-callbacks-other-type", .high,
    "object callbacks on a type other than Process, Thread and Desktop (Windows offers them for those only)")

  /// The types the object-process, object-thread and object-desktop families read.
  static let offered: Set<String> = ["Process", "Thread", "Desktop"]

  public func collect(_ c: CallbackContext) -> [FamilyResult] {
    let id = "object-other"
    let table: ObjectTypeTable
    let listOffset: UInt64
    do throws(WindowsKernelError) {
      table = try ObjectTypeTable(c, family: id)
      listOffset = try c.offset("_OBJECT_TYPE", "CallbackList")
    } catch {
      return [FamilyResult(family: id, notLocated: error.description)]
    }
    if let reason = table.emptyReason { return [FamilyResult(family: id, notLocated: reason)] }
    var result = FamilyResult(family: id, warnings: table.warnings)
    for entry in table.entries {
      let (index, type) = (entry.index, entry.address)
      // Unnamed, it may be any type: its callbacks are read and reported like another type's.
      let name = entry.name ?? "type \(index)"
      guard !Self.offered.contains(name) else { continue }
      // A CallbackList the kernel never initialised holds nothing (and is no broken list).
      guard let flink = c.pointer(type &+ listOffset), flink != 0 else { continue }
      ObjectCallbackFamily.readCallbackList(
        c, type: type, listOffset: listOffset, id: id, headSymbol: "ObTypeIndexTable[\(index)] (\(name))",
        provenance: table.head.provenance, extra: [("type", .string(name))], flags: [Self.unusualType.rawValue],
        into: &result)
    }
    return [result]
  }
}
