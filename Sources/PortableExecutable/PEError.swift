// The errors of the PE/COFF reader: every case names the source, where (offset or RVA) and which
// structure, so a message can be shown to the user as is.

import BinaryReading

/// Why part of a PE image could not be read. `offset` is a source offset when the bytes were read
/// at a file position (headers, raw section data); for a field of a structure reached through an RVA
/// (exports, debug, resources) it is that RVA — the same number in the mapped layout.
public enum PEError: Error, Equatable, Sendable, CustomStringConvertible {
  /// `count` bytes of `structure` at source offset `offset` run past the end of the source (`size` bytes).
  case truncated(source: String, offset: UInt64, count: UInt64, size: UInt64, structure: String)
  /// A magic value is wrong: `MZ`, `PE\0\0`, an optional-header magic, `RSDS`, `0xFEEF04BD` …
  case badSignature(source: String, offset: UInt64, structure: String, expected: String, found: String)
  /// Well-formed, but a variant this reader does not handle (ROM image, unknown CodeView format …).
  case unsupported(source: String, offset: UInt64, structure: String, detail: String)
  /// A value contradicts the format: absurd counts, loops, sizes that do not fit.
  case corrupt(source: String, offset: UInt64, structure: String, detail: String)
  /// `count` bytes at `rva` are not inside the image (past SizeOfImage, or in no section of a file).
  case invalidRVA(source: String, rva: UInt32, count: UInt64, structure: String, detail: String)
  /// The source could not deliver bytes it should hold, e.g. a page missing from a memory image.
  case unavailable(source: String, offset: UInt64, count: UInt64, structure: String, reason: String)

  public var description: String {
    switch self {
    case .truncated(let source, let offset, let count, let size, let structure):
      return "\(source): \(structure): \(count) byte(s) at offset \(Hex.format(offset)) run past the end "
        + "(size \(Hex.format(size)))"
    case .badSignature(let source, let offset, let structure, let expected, let found):
      return "\(source): \(structure) at offset \(Hex.format(offset)): expected \(expected), found \(found)"
    case .unsupported(let source, let offset, let structure, let detail):
      return "\(source): \(structure) at offset \(Hex.format(offset)): unsupported: \(detail)"
    case .corrupt(let source, let offset, let structure, let detail):
      return "\(source): \(structure) at offset \(Hex.format(offset)): corrupt: \(detail)"
    case .invalidRVA(let source, let rva, let count, let structure, let detail):
      return
        "\(source): \(structure): \(count) byte(s) at RVA \(Hex.format(UInt64(rva))) are not in the image: \(detail)"
    case .unavailable(let source, let offset, let count, let structure, let reason):
      return "\(source): \(structure): \(count) byte(s) at offset \(Hex.format(offset)) are unavailable: \(reason)"
    }
  }
}
