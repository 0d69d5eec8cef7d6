// Symbol files opened once per process: a file given with --symbols is consulted for every module
// whose PDB is looked up, and parsing it again each time would dominate the run.

import Foundation

/// A process-wide cache of opened symbol files, keyed by path.
enum OpenedProfiles {
  private static let lock = NSLock()
  nonisolated(unsafe) private static var cache: [String: any KernelProfile] = [:]

  /// The profile of `path`, opened by `open` the first time.
  static func profile(_ path: String, open: () throws -> any KernelProfile) throws -> any KernelProfile {
    lock.lock()
    if let hit = cache[path] {
      lock.unlock()
      return hit
    }
    lock.unlock()
    let profile = try open()
    lock.lock()
    cache[path] = profile
    lock.unlock()
    return profile
  }
}
