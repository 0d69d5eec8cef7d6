// Validation of PDB names before they touch the file system: a name comes from an image (RSDS
// record) or a user and may be hostile (`..\..\x.pdb`, `a/b.pdb`, absolute paths, NUL bytes,
// huge or non-printable names). Only a single, plain path component is accepted.

/// Checks symbol-file names.
public enum SymbolFileName {
  /// The longest name accepted.
  public static let maximumLength = 128

  /// Throws unless `name` is a single safe path component: 1…128 characters from
  /// `A-Z a-z 0-9 . _ - + ~ $ ( ) space`, not starting with `.` or a space.
  public static func validate(_ name: String) throws(SymbolsError) {
    let bytes = Array(name.utf8)
    guard !bytes.isEmpty else { throw .unsafeName(name, reason: "empty") }
    guard bytes.count <= maximumLength else { throw .unsafeName(name, reason: "longer than \(maximumLength) bytes") }
    guard bytes[0] != UInt8(ascii: "."), bytes[0] != UInt8(ascii: " ") else {
      throw .unsafeName(name, reason: "starts with `.` or a space")
    }
    for b in bytes {
      switch b {
      case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
        UInt8(ascii: "0")...UInt8(ascii: "9"):
        continue
      case UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "~"),
        UInt8(ascii: "$"), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: " "):
        continue
      case UInt8(ascii: "/"), UInt8(ascii: "\\"): throw .unsafeName(name, reason: "contains a path separator")
      case 0: throw .unsafeName(name, reason: "contains a NUL byte")
      default: throw .unsafeName(name, reason: "contains the character 0x\(String(b, radix: 16))")
      }
    }
  }

  /// Throws unless `guid` is 32 hex digits (a key of the store).
  public static func validateGUID(_ guid: String) throws(SymbolsError) {
    guard guid.utf8.count == 32, guid.utf8.allSatisfy({ isHex($0) }) else {
      throw .unsafeName(guid, reason: "a GUID must be 32 hexadecimal digits")
    }
  }

  private static func isHex(_ b: UInt8) -> Bool {
    (0x30...0x39).contains(b) || (0x41...0x46).contains(b) || (0x61...0x66).contains(b)
  }

  /// Validates a whole identity (name and GUID).
  public static func validate(_ identity: PDBIdentity) throws(SymbolsError) {
    try validate(identity.name)
    try validateGUID(identity.guid)
  }
}
