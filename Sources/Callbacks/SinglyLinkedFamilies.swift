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
  let layout: @Sendable (CallbackContext) throws(WindowsKernelError) -> (link: UInt64, next: UInt64)
  /// The routine, details and unreadable-member warnings of the record at an address.
  let read:
    @Sendable (CallbackContext, UInt64) throws(WindowsKernelError) -> (UInt64, [(String, DetailValue)], [String])
  public var ids: [String] { [id] }

  public func collect(_ c: CallbackContext) -> [FamilyResult] {
    let head: (address: UInt64, provenance: Provenance)
    do { head = try c.head(symbol) } catch { return [FamilyResult(family: id, notLocated: error.description)] }
    var result = FamilyResult(family: id)
    let (link, next): (UInt64, UInt64)
    do { (link, next) = try layout(c) } catch { return [FamilyResult(family: id, notLocated: error.description)] }
    let (nodes, warning) = c.singlyLinked(head: head.address, nextOffset: next)
    if let warning { result.warnings.append("\(symbol): \(warning)") }
    for (position, node) in nodes.enumerated() {
      let record = node &- link  // the link lies inside the record
      do {
        let (routine, details, warnings) = try read(c, record)
        result.warnings += warnings.map { "\(id) record at \(Hex.format(record)): \($0)" }
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

}
