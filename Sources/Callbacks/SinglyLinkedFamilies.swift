// Families on singly linked lists: logon-session-terminated (SeRegisterLogonSessionTerminatedRoutine(Ex)),
// NMI callbacks (KeRegisterNmiCallback) and Errata Manager providers (EmProviderRegister).

import BinaryReading
import Symbols
import WindowsKernel

/// A family on a singly linked list: the head variable holds the first link, each node's `Next`
/// is at `nextOffset`, and the record starts `linkOffset` before the link.
public struct SinglyLinkedFamily: CallbackFamily {
  public let id: String
  public let symbol: String
  let layout: @Sendable (CallbackContext) -> (link: UInt64, next: UInt64)
  let read: @Sendable (CallbackContext, UInt64) throws(WindowsKernelError) -> (UInt64, [(String, DetailValue)])
  public var ids: [String] { [id] }

  public func collect(_ c: CallbackContext) -> [FamilyResult] {
    let head: (address: UInt64, provenance: Provenance)
    do { head = try c.head(symbol) } catch { return [FamilyResult(family: id, notLocated: error.description)] }
    var result = FamilyResult(family: id)
    let (link, next) = layout(c)
    let (nodes, warning) = c.singlyLinked(head: head.address, nextOffset: next)
    if let warning { result.warnings.append("\(symbol): \(warning)") }
    for (position, node) in nodes.enumerated() {
      let record = node &- link  // the link lies inside the record
      do {
        let (routine, details) = try read(c, record)
        guard routine != 0 else { continue }
        result.entries.append(
          CallbackEntry(
            family: id, head: head.address, headSymbol: symbol, index: position, routine: routine, object: record,
            details: details, provenance: head.provenance))
      } catch {
        result.warnings.append("\(id) record at \(Hex.format(record)): \(error)")
      }
    }
    return [result]
  }

  /// SEP_LOGON_SESSION_TERMINATED_NOTIFICATION chains (legacy and Ex).
  public static let logonSession = SinglyLinkedFamily(
    id: "logon-session-terminated", symbol: "SeFileSystemNotifyRoutinesHead",
    layout: { c in (0, c.layouts.logonSessionNotification["Next"]) },
    read: { c, record throws(WindowsKernelError) in
      (try c.kernel.readPointer(record &+ c.layouts.logonSessionNotification["CallbackRoutine"]), [])
    })

  public static let logonSessionEx = SinglyLinkedFamily(
    id: "logon-session-terminated-ex", symbol: "SeFileSystemNotifyRoutinesExHead",
    layout: { c in (0, c.layouts.logonSessionNotification["Next"]) },
    read: { c, record throws(WindowsKernelError) in
      let l = c.layouts.logonSessionNotification
      let routine = try c.kernel.readPointer(record &+ l["CallbackRoutine"])
      return (routine, [("context", .address(c.pointer(record &+ l["Context"]) ?? 0))])
    })

  /// KNMI_HANDLER_CALLBACK chain from KiNmiCallbackListHead.
  public static let nmi = SinglyLinkedFamily(
    id: "nmi", symbol: "KiNmiCallbackListHead",
    layout: { c in (0, c.layouts.nmiCallback["Next"]) },
    read: { c, record throws(WindowsKernelError) in
      let l = c.layouts.nmiCallback
      let routine = try c.kernel.readPointer(record &+ l["Callback"])
      return (
        routine,
        [
          ("context", .address(c.pointer(record &+ l["Context"]) ?? 0)),
          ("handle", .address(c.pointer(record &+ l["Handle"]) ?? 0)),
        ]
      )
    })

  /// EMP_CALLBACK_DB_RECORD chain (through its `List` SINGLE_LIST_ENTRY) from EmpCallbackListHead.
  public static let emp = SinglyLinkedFamily(
    id: "emp", symbol: "EmpCallbackListHead",
    layout: { c in (c.layouts.empCallbackRecord["List"], 0) },
    read: { c, record throws(WindowsKernelError) in
      let l = c.layouts.empCallbackRecord
      let routine = try c.kernel.readPointer(record &+ l["CallbackFunc"])
      return (
        routine,
        [
          ("callbackId", c.guid(record &+ l["CallbackId"]).map(DetailValue.string) ?? .null),
          ("context", .address(c.pointer(record &+ l["Context"]) ?? 0)),
        ]
      )
    })
}
