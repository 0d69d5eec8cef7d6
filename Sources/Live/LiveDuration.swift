// Durations as `watch` reads them: `200ms`, `1s`, `1.5s`, `5m`, `1h` (a positive number and a unit).

/// A positive duration in nanoseconds, parsed from `200ms`, `1s`, `5m` or `1h`.
public struct LiveDuration: Sendable, Hashable, CustomStringConvertible {
  /// Nanoseconds (> 0).
  public let nanoseconds: UInt64

  /// The longest duration accepted (a week): anything longer is surely a typo.
  public static let maximum: UInt64 = 7 * 24 * 3_600 * 1_000_000_000

  public init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }

  /// Parses `text`; units are ms, s, m and h (no unit is an error: `1` could mean anything).
  public init(parsing text: String) throws(LiveError) {
    let units: [(String, Double)] = [("ms", 1e6), ("s", 1e9), ("m", 60e9), ("h", 3_600e9)]
    guard let (unit, scale) = units.first(where: { text.hasSuffix($0.0) && text.count > $0.0.count }) else {
      throw .badDuration(text: text)
    }
    let number = text.dropLast(unit.count)
    guard number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }), let value = Double(number),
      value.isFinite, value > 0
    else { throw .badDuration(text: text) }
    let ns = (value * scale).rounded()
    guard ns >= 1, ns <= Double(Self.maximum) else { throw .badDuration(text: text) }
    self.nanoseconds = UInt64(ns)  // 1 ≤ ns ≤ a week in ns: exact conversion
  }

  /// Seconds, for timeouts and sleeps.
  public var seconds: Double { Double(nanoseconds) / 1e9 }
  /// Milliseconds.
  public var milliseconds: Double { Double(nanoseconds) / 1e6 }

  public var description: String {
    nanoseconds % 1_000_000_000 == 0 ? "\(nanoseconds / 1_000_000_000)s" : "\(milliseconds)ms"
  }
}
