// ExCreateCallback / ExRegisterCallback: CALLBACK_OBJECTs found in the `\Callback` object directory
// and on ExpCallbackListHead (Windows 8.1+, which also reaches unnamed objects), merged by address;
// one row per CALLBACK_REGISTRATION on each object's RegisteredCallbacks list.

import BinaryReading
import Symbols
import WindowsKernel

/// Callback objects and their registrations.
public struct CallbackObjectFamily: CallbackFamily {
  public var ids: [String] { ["callback-object"] }
  public init() {}

  /// CALLBACK_OBJECT.Signature, 'Call' read as a little-endian ULONG (ntos.h EX_CALLBACK_SIGNATURE).
  public static let signature: UInt32 = 0x6c6c_6143

  public func collect(_ c: CallbackContext) -> [FamilyResult] {
    var result = FamilyResult(family: "callback-object")
    var objects: [(address: UInt64, name: String?, provenance: Provenance)] = []
    var seen: Set<UInt64> = []
    var located: [String] = []
    var reasons: [String] = []
    // 1. The \Callback directory.
    if let manager = c.objects, let directory = try? manager.lookup("\\Callback") {
      let provenance = c.kernel.profile.symbol("ObpRootDirectoryObject")?.provenance ?? .pdb
      let (entries, warnings) = manager.entries(ofDirectory: directory.address)
      result.warnings += warnings
      for object in entries where object.typeName == nil || object.typeName == "Callback" {
        if seen.insert(object.address).inserted { objects.append((object.address, object.name, provenance)) }
      }
      located.append("\\Callback")
    } else {
      reasons.append("\\Callback directory not readable" + (c.objectsError.map { " (object manager: \($0))" } ?? ""))
    }
    // 2. ExpCallbackListHead (CALLBACK_OBJECT.ExpCallbackList links every object, named or not).
    if let head = try? c.head("ExpCallbackListHead") {
      let link: UInt64
      do { link = try c.layouts.callbackObject["ExpCallbackList"] } catch {
        return [FamilyResult(family: "callback-object", notLocated: error.description)]
      }
      let list = c.list(head.address, what: "ExpCallbackListHead")
      if let w = list.warning { result.warnings.append(w) }
      for entry in list.entries {
        let object = entry &- link
        if seen.insert(object).inserted {
          let name = (try? c.objects?.object(at: object))??.name
          objects.append((object, name, head.provenance))
        }
      }
      located.append("ExpCallbackListHead")
    } else {
      reasons.append("symbol ExpCallbackListHead is not in the kernel profile")
    }
    guard !located.isEmpty else {
      return [FamilyResult(family: "callback-object", notLocated: reasons.joined(separator: "; "))]
    }
    // The kernel's own objects, named by the variables that hold them (unnamed ones too).
    var variables: [UInt64: String] = [:]
    for (symbol, _) in KnownCallbackObjects.byVariable {
      if let va = try? c.kernel.address(of: symbol), let object = c.pointer(va), object != 0 {
        variables[object] = symbol
      }
    }
    for object in objects {
      read(
        c, object: object.address, name: object.name, variable: variables[object.address],
        provenance: object.provenance, into: &result)
    }
    return [result]
  }

  private func read(
    _ c: CallbackContext, object: UInt64, name: String?, variable: String?, provenance: Provenance,
    into result: inout FamilyResult
  ) {
    do {
      try readThrowing(c, object: object, name: name, variable: variable, provenance: provenance, into: &result)
    } catch {
      result.warnings.append("callback object at \(Hex.format(object)): \(error)")
    }
  }

  /// `read`, throwing when the declared layouts lack a member (a defect named by the error).
  private func readThrowing(
    _ c: CallbackContext, object: UInt64, name: String?, variable: String?, provenance: Provenance,
    into result: inout FamilyResult
  ) throws(WindowsKernelError) {
    let o = c.layouts.callbackObject
    let r = c.layouts.callbackRegistration
    guard let signature = try? c.kernel.readUnsigned(object &+ (try o["Signature"]), width: 4) else {
      result.warnings.append("callback object at \(Hex.format(object)) unreadable")
      return
    }
    if signature != UInt64(Self.signature) {
      result.warnings.append(
        "callback object at \(Hex.format(object)): signature \(Hex.format(signature)), expected 'Call'")
    }
    var objectFields = c.fields(o, at: object)
    let allowMultiple = objectFields.unsigned("AllowMultipleCallbacks", width: 1).map { DetailValue.bool($0 != 0) }
    result.warnings += objectFields.warnings
    let path = name.map { "\\Callback\\" + $0 }
    let purpose =
      name.flatMap { KnownCallbackObjects.byName[$0] }
      ?? variable.flatMap { v in KnownCallbackObjects.byVariable.first { $0.symbol == v }?.purpose }
    let head = object &+ (try o["RegisteredCallbacks"])
    let (linkOffset, functionOffset) = (try r["Link"], try r["CallbackFunction"])
    let list = c.list(head, what: "callback object \(path ?? Hex.format(object))")
    if let w = list.warning { result.warnings.append(w) }
    for (position, entry) in list.entries.enumerated() {
      let registration = entry &- linkOffset  // first member
      guard let routine = c.pointer(registration &+ functionOffset) else {
        result.warnings.append("registration at \(Hex.format(registration)) unreadable")
        continue
      }
      guard routine != 0 else { continue }
      var f = c.fields(r, at: registration)
      let context = f.pointer("CallbackContext")
      let busy = f.unsigned("Busy", width: 4)
      result.warnings += f.warnings
      result.entries.append(
        CallbackEntry(
          family: "callback-object", head: head, headSymbol: path ?? "CALLBACK_OBJECT", index: position,
          routine: routine,
          object: registration,
          details: [
            ("object", path.map(DetailValue.string) ?? .null), ("callbackObject", .address(object)),
            ("allowMultipleCallbacks", allowMultiple ?? .null), ("context", .address(orNull: context)),
            ("busy", .int(orNull: busy)), ("knownAs", variable.map(DetailValue.string) ?? .null),
            ("purpose", purpose.map(DetailValue.string) ?? .null),
          ],
          provenance: provenance))
    }
  }
}
