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

  public func collect(_ c: CallbackContext) -> [FamilyResult] {
    let id = "object-type-procedure"
    let table: ObjectTypeTable
    let typeInfo: UInt64
    var members: [(name: String, offset: UInt64)] = []
    do throws(WindowsKernelError) {
      table = try ObjectTypeTable(c, family: id)
      typeInfo = try c.offset("_OBJECT_TYPE", "TypeInfo")
      for procedure in Self.procedures {
        // The profile says which of the procedure names this build has (ParseProcedureEx from Windows 10).
        guard let field = c.profile.field("_OBJECT_TYPE_INITIALIZER", procedure), field.offset >= 0 else { continue }
        let offset = UInt64(field.offset)
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
    if let reason = table.emptyReason { return [FamilyResult(family: id, notLocated: reason)] }
    var result = FamilyResult(family: id, warnings: table.warnings)
    for typeEntry in table.entries {
      let (index, type) = (typeEntry.index, typeEntry.address)
      // Unnamed, it cannot be told a kernel type: its procedures are judged by no owner.
      let typeName = typeEntry.name ?? "type \(index)"
      let expected =
        typeEntry.name.map { Self.kernelTypes.contains($0) } == true ? IrpDispatchReader.kernelImageNames : []
      for member in members {
        let field = type &+ typeInfo &+ member.offset
        guard let routine = c.pointer(field) else {
          result.warnings.append(
            "object-type-procedure: \(typeName).TypeInfo.\(member.name) at \(Hex.format(field)) unreadable")
          continue
        }
        guard routine != 0 else { continue }
        var entry = CallbackEntry(
          family: id, head: table.head.address, headSymbol: "ObTypeIndexTable", index: index, routine: routine,
          object: type, details: [("type", .string(typeName)), ("procedure", .string(member.name))],
          provenance: table.head.provenance)
        entry.expectedOwners = expected
        result.entries.append(entry)
      }
    }
    return [result]
  }
}
