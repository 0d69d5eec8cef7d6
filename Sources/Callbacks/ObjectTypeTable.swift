// ObTypeIndexTable walked once per family that reads object types: each slot's type object and its
// name, from slot 2 (0 and 1 are reserved) to the first null, bounded by the byte-sized type index.

import BinaryReading
import Symbols
import WindowsKernel

/// The object types of ObTypeIndexTable.
struct ObjectTypeTable {
  /// One type: its slot, its OBJECT_TYPE, and its name (nil when unreadable).
  struct Entry {
    let index: Int
    let address: UInt64
    let name: String?
  }

  let head: (address: UInt64, provenance: Provenance)
  let entries: [Entry]
  /// Slots that could not be read or hold no kernel address, and names that could not be read.
  let warnings: [String]

  /// Slots read at most (the type index is a byte).
  static let slots = 256

  /// Reads the table; `family` prefixes the warnings.
  init(_ c: CallbackContext, family: String) throws(WindowsKernelError) {
    head = try c.head("ObTypeIndexTable")
    let nameOffset = try c.offset("_OBJECT_TYPE", "Name")
    var entries: [Entry] = []
    var warnings: [String] = []
    for index in 2..<Self.slots {
      let slot = head.address &+ UInt64(index) &* c.pointerSize
      guard let type = c.pointer(slot) else {
        warnings.append("\(family): ObTypeIndexTable[\(index)] at \(Hex.format(slot)) unreadable")
        break
      }
      guard type != 0 else { break }
      guard c.kernel.isKernelAddress(type) else {
        warnings.append("\(family): ObTypeIndexTable[\(index)] = \(Hex.format(type)) is not a kernel address")
        continue
      }
      var name: String?
      do { name = try c.kernel.readUnicodeString(type &+ nameOffset) } catch {
        warnings.append("\(family): ObTypeIndexTable[\(index)]: _OBJECT_TYPE.Name unreadable: \(error)")
      }
      entries.append(Entry(index: index, address: type, name: name))
    }
    self.entries = entries
    self.warnings = warnings
  }

  /// The not-located reason of a table that holds no type, else nil.
  var emptyReason: String? {
    entries.isEmpty && warnings.isEmpty
      ? "ObTypeIndexTable at \(Hex.format(head.address)) holds no object type" : nil
  }
}
