// ExRegisterExtension: host entries on ExpHostList; an extension that registered fills the host's
// FunctionTable, whose routines the kernel calls. One row per non-null routine with `details.index`.

import BinaryReading
import Symbols
import WindowsKernel

/// Extension hosts and their registered function tables.
public struct ExHostFamily: CallbackFamily {
  public var ids: [String] { ["ex-host"] }
  public init() {}

  /// At most this many routines are read from one function table.
  static let maxFunctions = 64

  public func collect(_ c: CallbackContext) -> [FamilyResult] {
    let head: (address: UInt64, provenance: Provenance)
    do { head = try c.head("ExpHostList") } catch {
      return [FamilyResult(family: "ex-host", notLocated: error.description)]
    }
    var result = FamilyResult(family: "ex-host")
    let l = c.layouts.exHostEntry
    let list = c.list(head.address, what: "ExpHostList")
    if let w = list.warning { result.warnings.append(w) }
    let offsets: (link: UInt64, id: UInt64, version: UInt64, count: UInt64, table: UInt64)
    do {
      offsets = (
        try l["ListEntry"], try l["HostId"], try l["HostVersion"], try l["HostFunctionCount"], try l["FunctionTable"]
      )
    } catch { return [FamilyResult(family: "ex-host", notLocated: error.description)] }
    for link in list.entries {
      let entry = link &- offsets.link  // first member
      guard let hostId = try? c.kernel.readUnsigned(entry &+ offsets.id, width: 2),
        let version = try? c.kernel.readUnsigned(entry &+ offsets.version, width: 2),
        let count = try? c.kernel.readUnsigned(entry &+ offsets.count, width: 2),
        let table = c.pointer(entry &+ offsets.table)
      else {
        result.warnings.append("ex-host entry at \(Hex.format(entry)) unreadable")
        continue
      }
      guard table != 0 else { continue }  // a host no extension has registered with
      if count > UInt64(Self.maxFunctions) {
        result.warnings.append("ex-host entry at \(Hex.format(entry)): function count \(count) is implausible")
      }
      for index in 0..<Int(min(count, UInt64(Self.maxFunctions))) {
        guard let routine = c.pointer(table &+ UInt64(index) &* c.pointerSize) else {
          result.warnings.append("ex-host table at \(Hex.format(table)) slot \(index) unreadable")
          break
        }
        guard routine != 0 else { continue }
        result.entries.append(
          CallbackEntry(
            family: "ex-host", head: head.address, headSymbol: "ExpHostList", index: index, routine: routine,
            object: entry,
            details: [
              ("index", .int(Int64(index))), ("hostId", .int(Int64(hostId))), ("hostVersion", .int(Int64(version))),
              ("functionCount", .int(Int64(count))), ("functionTable", .address(table)),
            ],
            provenance: head.provenance))
      }
    }
    return [result]
  }
}
