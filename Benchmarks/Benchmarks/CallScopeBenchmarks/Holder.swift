// A slot that a benchmark's setup fills and its closure reads (the runner calls them one after the
// other on one thread, never at the same time).

/// A value made in a benchmark's setup hook.
final class Holder<T>: @unchecked Sendable {
  // @unchecked: written only in setup, read only after it, by the runner's sequential calls.
  private var stored: T?

  init() {}

  /// Sets the value (from setup).
  func set(_ value: T) { stored = value }

  /// The value; throws when setup did not run or failed.
  func get() throws -> T {
    guard let stored else { throw HolderError() }
    return stored
  }
}

/// A benchmark closure ran without its setup's value.
struct HolderError: Error, CustomStringConvertible {
  var description: String { "benchmark setup did not produce its input" }
}

/// A benchmark's result was not what its input should give (the benchmark would measure nothing).
struct CheckFailed: Error, CustomStringConvertible {
  var what: String
  init(_ what: String) { self.what = what }
  var description: String { "benchmark check failed: \(what)" }
}
