// Tables of routine pointers held in one kernel variable: the code-integrity callbacks CI.dll
// installs (SeCiCallbacks, size-prefixed; g_CiCallbacks on Windows 7), the pico provider routines
// (PspPicoProviderRoutines, size-prefixed) and the alternate system-call handlers
// (PsAltSystemCallHandlers, two slots). One row per non-null routine with `details.index`.

import BinaryReading
import Symbols
import WindowsKernel

/// A table of routine pointers.
public struct RoutineTableFamily: CallbackFamily {
  public let id: String
  /// Candidate symbols, first found wins.
  public let symbols: [String]
  /// Whether the table starts with its size in bytes (a ULONG padded to a pointer).
  public let sizePrefixed: Bool
  /// Slot count when the table is not size-prefixed.
  public let fixedSlots: Int
  /// Names of the slots, where public sources give them.
  public let names: [String]
  public var ids: [String] { [id] }

  /// At most this many slots are read from a size-prefixed table (a smeared size cannot run away).
  static let maxSlots = 128

  public func collect(_ c: CallbackContext) -> [FamilyResult] {
    var located: (symbol: String, address: UInt64, provenance: Provenance)?
    for symbol in symbols {
      if let head = try? c.head(symbol) {
        located = (symbol, head.address, head.provenance)
        break
      }
    }
    guard let head = located else {
      return [
        FamilyResult(
          family: id,
          notLocated: symbols.map { c.kernel.missing($0).description }.joined(separator: "; "))
      ]
    }
    var result = FamilyResult(family: id)
    var first = head.address
    var slots = fixedSlots
    var tableSize: UInt64?
    // Windows 7's g_CiCallbacks is a bare table of three pointers; SeCiCallbacks carries its size.
    if sizePrefixed && head.symbol != "g_CiCallbacks" {
      guard let size = try? c.kernel.readUnsigned(head.address, width: 4) else {
        result.warnings.append("\(head.symbol) at \(Hex.format(head.address)) unreadable")
        return [result]
      }
      tableSize = size
      first = head.address &+ c.pointerSize
      // Size 0: never filled in (no CI.dll policy callbacks yet, no pico provider such as WSL).
      guard size != 0 else { return [result] }
      guard size >= c.pointerSize else {
        result.warnings.append("\(head.symbol): table size \(size) is too small (less than one pointer)")
        return [result]
      }
      slots = Int(min((size - c.pointerSize) / c.pointerSize, UInt64(Self.maxSlots)))
      if (size - c.pointerSize) / c.pointerSize > UInt64(Self.maxSlots) {
        result.warnings.append("\(head.symbol): table size \(size) is implausible; read \(Self.maxSlots) slots")
      }
    }
    for slot in 0..<slots {
      let address = first &+ UInt64(slot) &* c.pointerSize
      guard let routine = c.pointer(address) else {
        result.warnings.append("\(head.symbol) slot \(slot) at \(Hex.format(address)) unreadable")
        continue
      }
      guard routine != 0 else { continue }
      var details: [(String, DetailValue)] = [("index", .int(Int64(slot)))]
      if slot < names.count { details.append(("name", .string(names[slot]))) }
      if let tableSize { details.append(("tableSize", .int(Int64(tableSize)))) }
      result.entries.append(
        CallbackEntry(
          family: id, head: head.address, headSymbol: head.symbol, index: slot, rawValue: routine, routine: routine,
          object: address, details: details, provenance: head.provenance))
    }
    return [result]
  }
}
