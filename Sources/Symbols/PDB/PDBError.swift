// The one error type of the PDB reader: every case names the file and carries the offending value.
// "Unsupported" (a valid PDB this reader does not handle) is kept apart from "corrupt" (an invalid one).

import BinaryReading

/// Why a PDB file could not be read.
public enum PDBError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The file could not be opened or mapped.
  case io(file: String, message: String)
  /// The file does not start with the MSF 7.00 magic.
  case badMagic(file: String, found: [UInt8])
  /// `needed` bytes of `structure` at `offset` run past the `available` bytes of its container.
  case truncated(file: String, structure: String, offset: UInt64, needed: UInt64, available: UInt64)
  /// A block number (in `structure`) is not below the file's block count.
  case blockOutOfRange(file: String, structure: String, block: UInt32, blockCount: UInt32)
  /// A stream number is not below the directory's stream count.
  case streamOutOfRange(file: String, stream: UInt32, streamCount: UInt32)
  /// A count or size read from the file is beyond what the file could hold.
  case absurdValue(file: String, what: String, value: UInt64, limit: UInt64)
  /// A value read from the file breaks the format's rules.
  case corrupt(file: String, structure: String, offset: UInt64, message: String)
  /// A type index is outside `[begin, end)` and not a simple type.
  case typeIndexOutOfRange(file: String, index: UInt32, begin: UInt32, end: UInt32)
  /// Type resolution revisited `index` or went deeper than allowed.
  case typeCycle(file: String, index: UInt32, depth: Int)
  /// A valid construct this reader does not handle (a PDB version, block size, leaf kind …).
  case unsupported(file: String, what: String)

  public var description: String {
    switch self {
    case .io(let file, let message):
      return "PDB `\(file)`: \(message)"
    case .badMagic(let file, let found):
      return "PDB `\(file)`: not an MSF 7.00 file (magic starts \(Hex.upper(Array(found.prefix(16)))))"
    case .truncated(let file, let structure, let offset, let needed, let available):
      return
        "PDB `\(file)`: \(structure): \(needed) byte(s) at \(Hex.format(offset)) run past the end (\(Hex.format(available)) available)"
    case .blockOutOfRange(let file, let structure, let block, let blockCount):
      return "PDB `\(file)`: \(structure): block \(block) is out of range (file has \(blockCount) blocks)"
    case .streamOutOfRange(let file, let stream, let streamCount):
      return "PDB `\(file)`: stream \(stream) does not exist (directory has \(streamCount) streams)"
    case .absurdValue(let file, let what, let value, let limit):
      return "PDB `\(file)`: \(what) \(Hex.format(value)) is absurd (limit \(Hex.format(limit)))"
    case .corrupt(let file, let structure, let offset, let message):
      return "PDB `\(file)`: \(structure) at \(Hex.format(offset)): \(message)"
    case .typeIndexOutOfRange(let file, let index, let begin, let end):
      return
        "PDB `\(file)`: type index \(Hex.format(UInt64(index))) is outside [\(Hex.format(UInt64(begin))), \(Hex.format(UInt64(end))))"
    case .typeCycle(let file, let index, let depth):
      return "PDB `\(file)`: type \(Hex.format(UInt64(index))) refers back to itself (cycle at depth \(depth))"
    case .unsupported(let file, let what):
      return "PDB `\(file)`: unsupported: \(what)"
    }
  }
}
