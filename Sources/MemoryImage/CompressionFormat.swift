// Compressed files recognised by their magic bytes (never their name). xz and gzip are streamed
// to a temporary file (StreamDecompressor); for the others the error gives the command that
// decompresses them. Signatures: xz file format 1.2.1 §2.1.1.1 (FD '7zXZ' 00), RFC 1952 §2.3.1
// (1F 8B, CM 8), RFC 8878 §3.1.1 (zstd frame 28 B5 2F FD), bzip2 ('BZh' + block size '1'–'9'),
// 7z format (7-Zip's 7zFormat.txt: '7z' BC AF 27 1C), PKWARE APPNOTE 4.3.7/4.3.16 ('PK' 03 04,
// 'PK' 05 06 for an empty archive, 'PK' 07 08 for a spanned one).

/// A compression or archive format.
public enum CompressionFormat: String, Sendable, CaseIterable {
  case xz, gzip, zstd, bzip2
  case sevenZip = "7z"
  case zip

  /// The format whose signature `head` (the file's first bytes) starts with.
  public static func detect(_ head: [UInt8]) -> CompressionFormat? {
    if head.starts(with: [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]) { return .xz }
    // FLG's top three bits are reserved and zero (RFC 1952 §2.3.1).
    if head.count >= 4, head.starts(with: [0x1F, 0x8B, 0x08]), head[3] & 0xE0 == 0 { return .gzip }
    if head.starts(with: [0x28, 0xB5, 0x2F, 0xFD]) { return .zstd }
    if head.count >= 4, head.starts(with: [0x42, 0x5A, 0x68]), (0x31...0x39).contains(head[3]) { return .bzip2 }
    if head.starts(with: [0x37, 0x7A, 0xBC, 0xAF, 0x27, 0x1C]) { return .sevenZip }
    for third in [0x03, 0x05, 0x07] as [UInt8] where head.starts(with: [0x50, 0x4B, third, third + 1]) { return .zip }
    return nil
  }

  /// Whether CallScope decompresses it itself.
  public var isStreamed: Bool { self == .xz || self == .gzip }

  /// The shell command that decompresses `path` beside itself.
  public func command(for path: String) -> String {
    let directory = path.contains("/") ? String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)]) : "."
    switch self {
    case .xz: return "xz -dk \(Self.quoted(path))"
    case .gzip: return "gzip -dc \(Self.quoted(path)) > \(Self.quoted(Self.output(path, [".gz", ".gzip"])))"
    case .zstd: return "zstd -d \(Self.quoted(path)) -o \(Self.quoted(Self.output(path, [".zst", ".zstd"])))"
    case .bzip2: return "bzip2 -dc \(Self.quoted(path)) > \(Self.quoted(Self.output(path, [".bz2", ".bz"])))"
    case .sevenZip: return "7z x \(Self.quoted(path)) -o\(Self.quoted(directory.isEmpty ? "/" : directory))"
    case .zip: return "unzip \(Self.quoted(path)) -d \(Self.quoted(directory.isEmpty ? "/" : directory))"
    }
  }

  /// `path` without the first of `suffixes` it ends with (any case), else `path` + `.raw`.
  static func output(_ path: String, _ suffixes: [String]) -> String {
    let lower = path.lowercased()
    for suffix in suffixes where lower.hasSuffix(suffix) && lower.count > suffix.count {
      return String(path.dropLast(suffix.count))
    }
    return path + ".raw"
  }

  /// `text` as one POSIX shell word.
  static func quoted(_ text: String) -> String {
    "'" + text.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
  }
}
