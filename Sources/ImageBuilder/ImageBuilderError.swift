// Errors of the ImageBuilder target: a request the builder cannot honour (an address outside the
// memory being built, a misaligned mapping, an unknown struct field) or a file it could not write.

import BinaryReading

/// Why the builder refused a request or could not write its output.
public enum ImageBuilderError: Error, Equatable, Sendable, CustomStringConvertible {
  /// `count` bytes at physical `address` are not inside the memory being built (size `size`).
  case outOfMemory(address: UInt64, count: UInt64, size: UInt64)
  /// A physical address falls in a hole (an unbacked range) of the memory being built.
  case inHole(address: UInt64)
  /// The page allocator has no free page left at or after `from`.
  case exhausted(from: UInt64, requested: UInt64)
  /// An address or size is not aligned as the structure requires.
  case misaligned(what: String, value: UInt64, alignment: UInt64)
  /// A virtual address cannot be mapped in this paging mode (non-canonical, too high, …).
  case badVirtualAddress(UInt64, mode: String, reason: String)
  /// A mapping would replace an existing one at `level` for virtual address `va`.
  case conflict(va: UInt64, level: String, entry: UInt64)
  /// A virtual address is not mapped by the tables being built.
  case notMapped(va: UInt64, level: String)
  /// A struct or field name is not in the layout table.
  case unknownLayout(structure: String, field: String?)
  /// A value does not fit the field or structure it is written to.
  case valueTooLarge(what: String, value: UInt64, limit: UInt64)
  /// An invalid request (described).
  case invalid(String)
  /// The output file could not be written.
  case io(path: String, message: String)

  public var description: String {
    switch self {
    case .outOfMemory(let address, let count, let size):
      return
        "image builder: \(count) byte(s) at physical \(Hex.format(address)) lie outside memory of \(Hex.format(size))"
    case .inHole(let address):
      return "image builder: physical \(Hex.format(address)) is in a hole of the memory map"
    case .exhausted(let from, let requested):
      return
        "image builder: no free physical memory for \(Hex.format(requested)) byte(s) at or after \(Hex.format(from))"
    case .misaligned(let what, let value, let alignment):
      return "image builder: \(what) \(Hex.format(value)) is not aligned to \(Hex.format(alignment))"
    case .badVirtualAddress(let va, let mode, let reason):
      return "image builder: virtual address \(Hex.format(va)) cannot be mapped in \(mode) paging: \(reason)"
    case .conflict(let va, let level, let entry):
      return "image builder: mapping \(Hex.format(va)) conflicts with \(level) entry \(Hex.format(entry))"
    case .notMapped(let va, let level):
      return "image builder: virtual address \(Hex.format(va)) is not mapped (no \(level) entry)"
    case .unknownLayout(let structure, let field):
      if let field { return "image builder: layout of \(structure) has no field \(field)" }
      return "image builder: no layout for struct \(structure)"
    case .valueTooLarge(let what, let value, let limit):
      return "image builder: \(what) value \(Hex.format(value)) exceeds \(Hex.format(limit))"
    case .invalid(let message):
      return "image builder: \(message)"
    case .io(let path, let message):
      return "\(path): \(message)"
    }
  }
}
