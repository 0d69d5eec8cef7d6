// A minimal mutual-exclusion lock over pthread_mutex_t (available on Linux and macOS 14, unlike
// Synchronization.Mutex, which needs macOS 15).

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A non-recursive lock; `withLock` is the only way to use it.
package final class Lock: @unchecked Sendable {
  // @unchecked: the mutex is only touched through pthread calls, which synchronise.
  private let mutex: UnsafeMutablePointer<pthread_mutex_t>

  package init() {
    mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    mutex.initialize(to: pthread_mutex_t())
    pthread_mutex_init(mutex, nil)
  }

  deinit {
    pthread_mutex_destroy(mutex)
    mutex.deallocate()
  }

  @inline(__always)
  package func withLock<R>(_ body: () throws -> R) rethrows -> R {
    pthread_mutex_lock(mutex)
    defer { pthread_mutex_unlock(mutex) }
    return try body()
  }
}
