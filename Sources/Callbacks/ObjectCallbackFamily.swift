// ObRegisterCallbacks: OB_CALLBACK_ENTRY records on OBJECT_TYPE.CallbackList of the Process, Thread
// and Desktop types; each entry gives a `pre` and a `post` row. The kernel calls them only when the
// type's TypeInfo.SupportsObjectCallbacks bit is set (public PDB: _OBJECT_TYPE_INITIALIZER).

import BinaryReading
import Symbols
import WindowsKernel

/// Object callbacks of one object type.
public struct ObjectCallbackFamily: CallbackFamily {
  public let id: String
  /// Kernel variable holding the type object pointer.
  public let typeVariable: String
  public var ids: [String] { [id] }

  /// Operations bits (OB_OPERATION_HANDLE_CREATE 1, OB_OPERATION_HANDLE_DUPLICATE 2; wdm.h).
  static func operationNames(_ ops: UInt64) -> String {
    var names: [String] = []
    if ops & 1 != 0 { names.append("create") }
    if ops & 2 != 0 { names.append("duplicate") }
    return names.isEmpty ? "none" : names.joined(separator: "|")
  }

  public func collect(_ c: CallbackContext) -> [FamilyResult] {
    let variable: (address: UInt64, provenance: Provenance)
    let listOffset: UInt64
    do {
      variable = try c.head(typeVariable)
      listOffset = try c.kernel.offset("_OBJECT_TYPE", "CallbackList")
    } catch { return [FamilyResult(family: id, notLocated: error.description)] }
    guard let type = c.pointer(variable.address), type != 0 else {
      return [
        FamilyResult(family: id, warnings: ["\(typeVariable) at \(Hex.format(variable.address)) is unreadable or null"])
      ]
    }
    var result = FamilyResult(family: id)
    Self.readCallbackList(
      c, type: type, listOffset: listOffset, id: id, headSymbol: typeVariable, provenance: variable.provenance,
      into: &result)
    return [result]
  }

  /// The rows of one type's CallbackList (`type` is the OBJECT_TYPE; `extra` details go on every row).
  static func readCallbackList(
    _ c: CallbackContext, type: UInt64, listOffset: UInt64, id: String, headSymbol: String, provenance: Provenance,
    extra: [(String, DetailValue)] = [], flags: [String] = [], into result: inout FamilyResult
  ) {
    let supported = supportsCallbacks(c, type: type)
    let head = type &+ listOffset
    let entryLayout = c.layouts.objectCallbackEntry
    let registration = c.layouts.objectRegistration
    let list = c.list(head, what: "\(headSymbol)->CallbackList")
    if let w = list.warning { result.warnings.append(w) }
    if supported == false, !list.entries.isEmpty {
      result.warnings.append(
        "\(headSymbol): TypeInfo.SupportsObjectCallbacks is clear; the kernel skips these callbacks")
    }
    for (position, link) in list.entries.enumerated() {
      var entry = link
      do {
        entry = link &- (try entryLayout["CallbackList"])  // first member
        let operations = try c.kernel.readUnsigned(entry &+ (try entryLayout["Operations"]), width: 4)
        let enabled = try c.kernel.readUnsigned(entry &+ (try entryLayout["Enabled"]), width: 4) & 0xff
        var f = c.fields(entryLayout, at: entry)
        let reg = f.pointer("Registration")
        var altitude: String?
        if let reg, reg != 0 {
          var r = c.fields(registration, at: reg)
          altitude = r.unicodeString("Altitude")
          f.warnings += r.warnings
        }
        // An unreadable routine pointer is a warning (f.warnings, below), not a row; null is no routine.
        let routines = [("pre", f.pointer("PreOperation")), ("post", f.pointer("PostOperation"))]
        result.warnings += f.warnings.map { "\(id) entry at \(Hex.format(entry)): \($0)" }
        for case let (kind, routine?) in routines where routine != 0 {
          var row = CallbackEntry(
            family: id, head: head, headSymbol: headSymbol, index: position, routine: routine, object: entry,
            details: [
              ("routineKind", .string(kind)), ("operations", .int(Int64(operations))),
              ("operationNames", .string(Self.operationNames(operations))), ("enabled", .bool(enabled != 0)),
              ("altitude", altitude.map(DetailValue.string) ?? .null), ("registration", .address(orNull: reg)),
              ("objectType", .address(type)),
            ] + extra + (supported == false ? [("supportsObjectCallbacks", .bool(false))] : []),
            provenance: provenance)
          row.flags = flags
          result.entries.append(row)
        }
      } catch {
        result.warnings.append("\(id) entry at \(Hex.format(entry)): \(error)")
      }
    }
  }

  /// The SupportsObjectCallbacks bit of the type's initializer; nil when the profile lacks it.
  static func supportsCallbacks(_ c: CallbackContext, type: UInt64) -> Bool? {
    guard let typeInfo = try? c.kernel.offset("_OBJECT_TYPE", "TypeInfo"),
      let bit = c.kernel.profile.field("_OBJECT_TYPE_INITIALIZER", "SupportsObjectCallbacks"),
      let position = bit.bitPosition, position >= 0, position < 32
    else { return nil }
    guard let word = try? c.kernel.readUnsigned(type &+ typeInfo &+ UInt64(bit.offset), width: 4) else { return nil }
    return (word >> UInt64(position)) & 1 == 1
  }
}
