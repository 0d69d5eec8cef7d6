// The wfp-callout family: every callout registered with the Windows Filtering Platform
// (FwpsCalloutRegister): per callout id, the classify routine the filter engine calls for matching
// traffic and the optional notify and flow-delete routines. EDRs and firewalls inspect the network
// here; tools that blind them remove or redirect these entries. netio's table (WfpCalloutTable)
// is read from gWfpGlobal; the routines may belong to any driver, so only the general rules
// (outside every module, unlinked module, patched prologue) judge them.

import BinaryReading
import Symbols
import WindowsKernel

extension FamilyDescriptor {
  /// WFP callouts: netio!gWfpGlobal → the callout table, by callout id.
  public static let wfpCallout = FamilyDescriptor(
    id: "wfp-callout", title: "WFP callouts (classify, notify and flow-delete routines per callout id)",
    registration: "FwpsCalloutRegister0/1/2/3",
    heads: [FamilyHead("gWfpGlobal", .module("netio.sys"))],
    builds: 6000...Int.max,
    reader: WfpCalloutReader())
}

/// Reads netio's callout table.
public struct WfpCalloutReader: CallbackFamily {
  public var ids: [String] { ["wfp-callout"] }
  public init() {}

  public func collect(_ c: CallbackContext) -> [FamilyResult] {
    switch c.loadedModule("netio.sys", for: "wfp-callout") {
    case .success(let (netio, _)): return [read(c, netio: netio)]
    case .failure(let missing): return [missing.result]
    }
  }

  /// The callouts of the table that `netio` (its loader entry) keeps.
  public func read(_ c: CallbackContext, netio: LoadedModule) -> FamilyResult {
    let id = "wfp-callout"
    let table: WfpCalloutTable
    do throws(WindowsKernelError) {
      table = try WfpCalloutTable.locate(c, module: netio, profile: c.moduleProfile(netio))
    } catch {
      return FamilyResult(family: id, notLocated: error.description)
    }
    var result = FamilyResult(family: id, module: netio, symbol: "gWfpGlobal", located: table)
    let l = table.layout
    if table.count < table.declaredCount {
      result.warnings.append(
        "wfp-callout: callout table at \(Hex.format(table.array)) unreadable from id \(table.count) of \(table.declaredCount)"
      )
    }
    for calloutId in 0..<table.count {
      let entry = table.array &+ UInt64(calloutId) &* UInt64(l.entry.size)
      var reads = FieldReads(c, l.entry, at: entry)
      guard let used = reads.unsigned("IsUsed", width: 4) else {
        result.warnings += reads.warnings.map { "wfp-callout: callout \(calloutId): \($0)" }
        continue
      }
      guard used == 1 else { continue }
      let kind = reads.unsigned("Kind", width: 4)
      let slots: [(String, String)] = [
        (kind == 3 ? "ClassifyFnFast" : "ClassifyFn", "classify"), ("NotifyFn", "notify"),
        ("FlowDeleteFn", "flowDelete"),
      ]
      let flags = reads.unsigned("Flags", width: 4)
      let device = reads.pointer("DeviceObject")
      for (member, role) in slots {
        guard let routine = reads.pointer(member), routine != 0 else { continue }
        result.entries.append(
          CallbackEntry(
            family: id, head: table.array, headSymbol: "gWfpGlobal.CalloutTable", index: calloutId, routine: routine,
            object: entry,
            details: [
              ("calloutId", .int(Int64(calloutId))), ("routineKind", .string(role)), ("kind", .int(orNull: kind)),
              ("flags", .int(orNull: flags)), ("deviceObject", .address(orNull: device)),
            ],
            provenance: table.provenance))
      }
      result.warnings += reads.warnings.map { "wfp-callout: callout \(calloutId): \($0)" }
    }
    return result
  }
}
