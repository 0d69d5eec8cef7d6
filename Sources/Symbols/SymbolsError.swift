// Errors of the Symbols layer outside the PDB reader: ISF files, decompression, the symbol path and
// store, symbol-server downloads and the bundled profiles. Each names the file, offset or URL.

import BinaryReading

/// A failure to find, fetch, decompress or parse symbol information.
public enum SymbolsError: Error, Sendable, Equatable, CustomStringConvertible {
  /// A byte-level read failed (file missing, truncated, unmappable).
  case read(BinaryReadError)
  /// A JSON document is malformed at `offset` of its decompressed text.
  case malformedJSON(file: String, offset: Int, message: String)
  /// A JSON document is well formed but not an ISF file as Volatility 3 defines it.
  case invalidISF(file: String, offset: Int, message: String)
  /// A compressed file is corrupt or truncated.
  case corruptCompressed(file: String, format: String, message: String)
  /// Decompressed output would exceed `limit` bytes.
  case tooLarge(file: String, what: String, limit: UInt64)
  /// The data uses a feature this reader does not implement (e.g. LZX-compressed cabinets).
  case unsupported(file: String, what: String)
  /// A name taken from an image or a user is not a safe single file name.
  case unsafeName(String, reason: String)
  /// A `_NT_SYMBOL_PATH`/`--symbols` element could not be understood.
  case badSymbolPath(String, reason: String)
  /// A symbol server answered with an HTTP error status.
  case httpStatus(url: String, status: Int)
  /// A network transfer failed (timeout, connection refused, truncated body, too many redirects).
  case network(url: String, message: String)
  /// A network access was needed but `--offline` forbids it.
  case offline(PDBIdentity)
  /// A fetched or found file is not the PDB that was asked for.
  case identityMismatch(file: String, expected: PDBIdentity, found: PDBIdentity)
  /// A PDB (MSF) file is corrupt where its identity is read.
  case corruptPDB(file: String, offset: UInt64, message: String)
  /// The bundled profile data is corrupt at `offset`.
  case corruptBundle(file: String, offset: Int, message: String)
  /// No source on the symbol path, in the bundle or on a server had this PDB.
  case notFound(PDBIdentity, searched: [String])
  /// A file-system operation failed.
  case io(path: String, message: String)

  public var description: String {
    switch self {
    case .read(let e): return e.description
    case .malformedJSON(let file, let offset, let message):
      return "\(file): malformed JSON at byte \(Hex.format(UInt64(max(offset, 0)))): \(message)"
    case .invalidISF(let file, let offset, let message):
      return "\(file): not a Volatility 3 ISF file at byte \(Hex.format(UInt64(max(offset, 0)))): \(message)"
    case .corruptCompressed(let file, let format, let message):
      return "\(file): corrupt \(format) data: \(message)"
    case .tooLarge(let file, let what, let limit):
      return "\(file): \(what) exceeds the limit of \(limit) bytes"
    case .unsupported(let file, let what):
      return "\(file): unsupported: \(what)"
    case .unsafeName(let name, let reason):
      return "unsafe symbol file name \(Self.quoted(name)): \(reason)"
    case .badSymbolPath(let element, let reason):
      return "symbol path element \(Self.quoted(element)): \(reason)"
    case .httpStatus(let url, let status):
      return "\(url): HTTP status \(status)"
    case .network(let url, let message):
      return "\(url): \(message)"
    case .offline(let id):
      return "\(id): not available locally and --offline forbids downloading it"
    case .identityMismatch(let file, let expected, let found):
      return "\(file): expected \(expected.guid)-\(expected.age), found \(found.guid)-\(found.age)"
    case .corruptPDB(let file, let offset, let message):
      return "\(file): corrupt PDB at \(Hex.format(offset)): \(message)"
    case .corruptBundle(let file, let offset, let message):
      return "\(file): corrupt bundled profile data at \(Hex.format(UInt64(max(offset, 0)))): \(message)"
    case .notFound(let id, let searched):
      return "no symbols for \(id) (searched: \(searched.isEmpty ? "nothing" : searched.joined(separator: ", ")))"
    case .io(let path, let message):
      return "\(path): \(message)"
    }
  }

  /// A name shown safely: control characters escaped, at most 80 characters.
  static func quoted(_ s: String) -> String {
    var out = ""
    for scalar in s.unicodeScalars.prefix(80) {
      if scalar.value < 0x20 || scalar.value == 0x7F {
        out += "\\u{\(String(scalar.value, radix: 16))}"
      } else {
        out.unicodeScalars.append(scalar)
      }
    }
    if s.unicodeScalars.count > 80 { out += "…" }
    return "`\(out)`"
  }
}
