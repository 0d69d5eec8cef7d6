// A verdict rule: a stable flag id (JSON `flags`), its severity and a one-line explanation. The
// general rules live in Analysis; a family declares its own in its descriptor.

/// How much a flag says about tampering.
public enum Severity: String, Sendable, CaseIterable, Comparable {
  /// Worth a look; has innocent causes (a smeared image, an unusual but legitimate setup).
  case low
  /// Tampering is likely, or a structure is damaged.
  case medium
  /// The usual sign of a rootkit or of injected code.
  case high

  /// Position in the order low < medium < high.
  var rank: Int {
    switch self {
    case .low: return 0
    case .medium: return 1
    case .high: return 2
    }
  }

  public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
}

/// A suspicion rule, identified by its flag id.
public struct VerdictRule: Sendable, Hashable, CustomStringConvertible {
  /// The flag id (`outside-modules`).
  public let rawValue: String
  /// How much the flag says about tampering.
  public let severity: Severity
  /// What the flag means, in one line.
  public let explanation: String

  public init(_ id: String, _ severity: Severity, _ explanation: String) {
    self.rawValue = id
    self.severity = severity
    self.explanation = explanation
  }

  public var description: String { rawValue }

  // Identity is the id: two declarations of one flag are the same rule.
  public static func == (a: VerdictRule, b: VerdictRule) -> Bool { a.rawValue == b.rawValue }
  public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }
}
