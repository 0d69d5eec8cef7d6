// Families whose registrations hang on one LIST_ENTRY head: each entry's record is read by a
// family-specific closure. The walk survives a broken link (walked backwards too), and every
// entry that cannot be read becomes a warning.

import BinaryReading
import Symbols
import WindowsKernel

/// A LIST_ENTRY-headed family.
public struct ListFamily: CallbackFamily {
  public let id: String
  public let symbol: String
  /// Offset of the LIST_ENTRY inside each record.
  public let linkOffset: @Sendable (CallbackContext) throws(WindowsKernelError) -> UInt64
  /// Reads the rows of one record (address of the record, position in the list).
  public let read: @Sendable (CallbackContext, UInt64, Int) throws(WindowsKernelError) -> [Row]
  public var ids: [String] { [id] }

  /// What a record yields: a routine and its details.
  public struct Row: Sendable {
    public var routine: UInt64
    public var details: [(String, DetailValue)]
    /// Members of the record that could not be read (their details are null).
    public var warnings: [String]
    public init(routine: UInt64, details: [(String, DetailValue)] = [], warnings: [String] = []) {
      self.routine = routine
      self.details = details
      self.warnings = warnings
    }
  }

  public init(
    id: String, symbol: String, linkOffset: @escaping @Sendable (CallbackContext) throws(WindowsKernelError) -> UInt64,
    read: @escaping @Sendable (CallbackContext, UInt64, Int) throws(WindowsKernelError) -> [Row]
  ) {
    self.id = id
    self.symbol = symbol
    self.linkOffset = linkOffset
    self.read = read
  }

  public func collect(_ context: CallbackContext) -> [FamilyResult] {
    let head: (address: UInt64, provenance: Provenance)
    let link: UInt64
    do {
      head = try context.head(symbol)
      link = try linkOffset(context)
    } catch {
      return [FamilyResult(family: id, notLocated: error.description)]
    }
    var result = FamilyResult(family: id)
    let list = context.list(head.address, what: symbol)
    if let warning = list.warning { result.warnings.append(warning) }
    for (position, entry) in list.entries.enumerated() {
      let record = entry &- link  // the link lies inside the record
      do {
        let rows = try read(context, record, position)
        // Warnings once per record (a record with two rows shares its members).
        for w in Set(rows.flatMap(\.warnings)).sorted() {
          result.warnings.append("\(id) record at \(Hex.format(record)): \(w)")
        }
        for row in rows where row.routine != 0 {
          result.entries.append(
            CallbackEntry(
              family: id, head: head.address, headSymbol: symbol, index: position, routine: row.routine, object: record,
              details: row.details, provenance: head.provenance))
        }
      } catch {
        result.warnings.append("\(id) record at \(Hex.format(record)): \(error)")
      }
    }
    return [result]
  }
}

extension ListFamily {
  /// A list whose records start with their LIST_ENTRY and hold the routine right after it (the
  /// KD power handlers, I/O tracking and ALPC log lists: the layout wdbgark reads them with),
  /// guarded against a head that was never initialised.
  static func routineAfterLink(id: String, symbol: String) -> any CallbackFamily {
    InitialisedListGuard(
      inner: ListFamily(
        id: id, symbol: symbol, linkOffset: { _ throws(WindowsKernelError) in 0 },
        read: { c, record, _ throws(WindowsKernelError) in
          [ListFamily.Row(routine: try c.kernel.readPointer(record &+ 2 &* c.pointerSize))]
        }),
      heads: [symbol])
  }
}
