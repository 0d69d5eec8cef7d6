// The declared-layout profiles built so far in this process. They depend only on the pointer size,
// the build and the identity they are labelled with, and every CallbackContext needs one: the head
// locators make a trial context per candidate address, which made laying out the undocumented
// structs again a sixth of a locator run.

import AddressSpace
import Symbols

/// A bounded, thread-safe memo of `UndocumentedLayouts.profile(identity:)`.
final class DeclaredLayoutCache: @unchecked Sendable {
  // @unchecked: `profiles` is only touched under `lock`.
  static let shared = DeclaredLayoutCache()

  struct Key: Hashable {
    let pointerSize: Int
    let build: Int
    let identity: PDBIdentity
  }

  /// More kernels than a process reads (one per image or watched guest); past it the memo starts over.
  static let capacity = 32
  private let lock = Lock()
  private var profiles: [Key: DeclaredLayoutProfile] = [:]

  /// The memo's profile for the key, made by `make` (outside the lock) when absent.
  func profile(pointerSize: Int, build: Int, identity: PDBIdentity, make: () -> DeclaredLayoutProfile)
    -> DeclaredLayoutProfile
  {
    let key = Key(pointerSize: pointerSize, build: build, identity: identity)
    if let known = lock.withLock({ profiles[key] }) { return known }
    let made = make()
    return lock.withLock {
      if let raced = profiles[key] { return raced }
      if profiles.count >= Self.capacity { profiles.removeAll() }
      profiles[key] = made
      return made
    }
  }
}
