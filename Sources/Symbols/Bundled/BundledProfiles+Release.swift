// Choosing a bundled build to lend struct layouts to a kernel whose own PDB is unknown: within one
// release (major.minor.build) every field offset CallScope reads is the same across updates
// (checked over the 213 bundled builds), so the newest bundled update of that release lends them;
// a release not bundled borrows from the nearest older one, to be validated against the data.

/// Why a bundled build was chosen to lend layouts.
public enum LayoutLending: String, Sendable {
  /// The same major.minor.build.
  case sameRelease = "same release"
  /// The nearest older release (layouts to be validated in memory before use).
  case olderRelease = "nearest older release"
}

/// A `major.minor.build.revision` version as four numbers (missing parts are 0).
public struct KernelVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
  public let parts: [Int]

  /// Parses `10.0.19041.1415`; nil when it is not 2 to 4 dot-separated numbers.
  public init?(_ text: String) {
    // One pass over the UTF-8 bytes, no substrings: `lender` parses every bundled build's version,
    // and splitting them was two thirds of its time. Same grammar as `split(".")` + `Int(_:)`:
    // empty parts are skipped, each part an optionally signed decimal that fits an Int.
    var p: [Int] = []
    p.reserveCapacity(4)
    var value = 0
    var digits = 0
    var negative = false
    var signed = false
    func finish() -> Bool {
      if digits == 0 { return !signed }  // an empty part is skipped; a lone sign is not a number
      p.append(value)
      (value, digits, negative, signed) = (0, 0, false, false)
      return true
    }
    for byte in text.utf8 {
      switch byte {
      case UInt8(ascii: "."):
        guard finish() else { return nil }
      case UInt8(ascii: "+"), UInt8(ascii: "-"):
        guard digits == 0, !signed else { return nil }
        signed = true
        negative = byte == UInt8(ascii: "-")
      case UInt8(ascii: "0")...UInt8(ascii: "9"):
        let digit = Int(byte &- UInt8(ascii: "0"))  // 0...9 by the case
        let (times, o1) = value.multipliedReportingOverflow(by: 10)
        let (next, o2) = negative ? times.subtractingReportingOverflow(digit) : times.addingReportingOverflow(digit)
        guard !o1, !o2 else { return nil }
        value = next
        digits += 1
      default:
        return nil
      }
    }
    guard finish(), p.count >= 2, p.count <= 4 else { return nil }
    while p.count < 4 { p.append(0) }
    parts = p
  }

  /// major.minor.build, the release.
  public var release: [Int] { Array(parts.prefix(3)) }
  public var build: Int { parts[2] }
  public var description: String { parts.map(String.init).joined(separator: ".") }
  public static func < (a: KernelVersion, b: KernelVersion) -> Bool { a.parts.lexicographicallyPrecedes(b.parts) }
}

extension BundledProfiles {
  /// The bundled build that lends layouts to a kernel of `version` (same PDB name and machine):
  /// the newest update of the same release, else the newest build of the nearest older release.
  public func lender(for version: KernelVersion, pdbName: String, machine: UInt32) -> (
    build: BundledBuild, lending: LayoutLending
  )? {
    let wanted = pdbName.lowercased()
    let candidates = builds.compactMap { b -> (BundledBuild, KernelVersion)? in
      guard b.machine == machine || b.machine == 0, b.identity.name.lowercased() == wanted,
        let v = b.version.flatMap(KernelVersion.init)
      else { return nil }
      return (b, v)
    }
    if let same = candidates.filter({ $0.1.release == version.release }).max(by: { $0.1 < $1.1 }) {
      return (same.0, .sameRelease)
    }
    let older = candidates.filter { $0.1.release.lexicographicallyPrecedes(version.release) }
    if let nearest = older.max(by: { $0.1 < $1.1 }) { return (nearest.0, .olderRelease) }
    return nil
  }
}
