// The object-type-procedure family: the procedures of every object type (OBJECT_TYPE.TypeInfo:
// Dump, Open, Close, Delete, Parse/ParseEx, Security, QueryName, OkayToClose). The object manager
// calls them on every open, close, parse and delete of an object of the type — a rootkit that
// swaps File's ParseProcedure or Process's OpenProcedure sees every such operation. Types are read
// from ObTypeIndexTable; _OBJECT_TYPE and _OBJECT_TYPE_INITIALIZER are public PDB types.
// The types the kernel creates itself keep their procedures in ntoskrnl (a procedure elsewhere is
// flagged); a driver may create types too (ObCreateObjectType is exported), so for any other type
// only a procedure outside every module is flagged.

import BinaryReading
import Symbols
import WindowsKernel

extension FamilyDescriptor {
  /// TypeInfo procedures of every type in ObTypeIndexTable.
  public static let objectTypeProcedure = FamilyDescriptor(
    id: "object-type-procedure", title: "Object type procedures (OBJECT_TYPE.TypeInfo)",
    registration: "ObCreateObjectType (the kernel at boot, drivers for their own types)",
    heads: [FamilyHead("ObTypeIndexTable", .kernelModel)],
    structs: ["_OBJECT_TYPE", "_OBJECT_TYPE_INITIALIZER"],
    listing: .deviations, reader: ObjectTypeProcedureReader())
}

/// Reads the procedures of every object type.
public struct ObjectTypeProcedureReader: CallbackFamily {
  public var ids: [String] { ["object-type-procedure"] }
  public init() {}

  /// Types Windows' kernel creates during its own initialisation (Windows 7 to 11): their
  /// procedures are ntoskrnl's. The Win32k types (WindowStation, Desktop …) are created by the
  /// kernel too, with ntoskrnl's Win32k callout wrappers as procedures.
  public static let kernelTypes: Set<String> = [
    "Type", "Directory", "SymbolicLink", "Token", "Job", "Process", "Thread", "Partition", "UserApcReserve",
    "IoCompletionReserve", "ActivityReference", "ProcessStateChange", "ThreadStateChange", "CpuPartition",
    "PsSiloContextPaged", "PsSiloContextNonPaged", "DebugObject", "Event", "Mutant", "Callback", "Semaphore", "Timer",
    "IRTimer", "Profile", "KeyedEvent", "WindowStation", "Desktop", "TpWorkerFactory", "Adapter", "Controller",
    "Device", "Driver", "IoCompletion", "WaitCompletionPacket", "File", "TmTm", "TmTx", "TmRm", "TmEn", "Section",
    "Session", "Key", "RegistryTransaction", "DmaAdapter", "ALPC Port", "EnergyTracker", "PowerRequest", "WmiGuid",
    "EtwRegistration", "EtwSessionDemuxEntry", "EtwConsumer", "CoverageSampler", "DmaDomain", "PcwObject",
    "SchedulerSharedData",
  ]

  /// The procedure members of _OBJECT_TYPE_INITIALIZER, in layout order (ParseProcedureEx shares
  /// ParseProcedure's slot from Windows 10; the profile says which names the build has).
  static let procedures = [
    "DumpProcedure", "OpenProcedure", "CloseProcedure", "DeleteProcedure", "ParseProcedure", "ParseProcedureEx",
    "SecurityProcedure", "QueryNameProcedure", "OkayToCloseProcedure",
  ]

  /// ObTypeIndexTable slots read at most (the type index is a byte).
  static let slots = 256

  public func collect(_ c: CallbackContext) -> [FamilyResult] {
    let id = "object-type-procedure"
    let head: (address: UInt64, provenance: Provenance)
    let typeInfo, name: UInt64
    var members: [(name: String, offset: UInt64)] = []
    do throws(WindowsKernelError) {
      head = try c.head("ObTypeIndexTable")
      typeInfo = try c.offset("_OBJECT_TYPE", "TypeInfo")
      name = try c.offset("_OBJECT_TYPE", "Name")
      for procedure in Self.procedures {
        guard let offset = try? c.offset("_OBJECT_TYPE_INITIALIZER", procedure) else { continue }
        if let same = members.firstIndex(where: { $0.offset == offset }) {
          members[same].name += "/" + procedure
        } else {
          members.append((procedure, offset))
        }
      }
      guard !members.isEmpty else {
        throw WindowsKernelError.undeclaredMember(structName: "_OBJECT_TYPE_INITIALIZER", member: "OpenProcedure")
      }
    } catch {
      return [FamilyResult(family: id, notLocated: error.description)]
    }
    var result = FamilyResult(family: id)
    var types = 0
    // Slots 0 and 1 are reserved (null and the bad-type marker); the table ends at the first null.
    for index in 2..<Self.slots {
      let slot = head.address &+ UInt64(index) &* c.pointerSize
      guard let type = c.pointer(slot) else {
        result.warnings.append("object-type-procedure: ObTypeIndexTable[\(index)] at \(Hex.format(slot)) unreadable")
        break
      }
      guard type != 0 else { break }
      guard c.kernel.isKernelAddress(type) else {
        result.warnings.append(
          "object-type-procedure: ObTypeIndexTable[\(index)] = \(Hex.format(type)) is not a kernel address")
        continue
      }
      types += 1
      let typeName = (try? c.kernel.readUnicodeString(type &+ name)) ?? "type \(index)"
      let expected = Self.kernelTypes.contains(typeName) ? IrpDispatchReader.kernelImageNames : []
      for member in members {
        let field = type &+ typeInfo &+ member.offset
        guard let routine = c.pointer(field) else {
          result.warnings.append(
            "object-type-procedure: \(typeName).TypeInfo.\(member.name) at \(Hex.format(field)) unreadable")
          continue
        }
        guard routine != 0 else { continue }
        var entry = CallbackEntry(
          family: id, head: head.address, headSymbol: "ObTypeIndexTable", index: index, routine: routine, object: type,
          details: [("type", .string(typeName)), ("procedure", .string(member.name))], provenance: head.provenance)
        entry.expectedOwners = expected
        result.entries.append(entry)
      }
    }
    if types == 0, result.warnings.isEmpty {
      result.notLocated = "ObTypeIndexTable at \(Hex.format(head.address)) holds no object type"
    }
    return [result]
  }
}
