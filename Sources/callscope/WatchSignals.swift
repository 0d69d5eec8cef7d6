// SIGINT and SIGTERM end `watch` cleanly: the handler only sets a flag, the loop sees it between
// ticks (a sleep is cut short by the signal) and returns, so the program exits with status 0.

#if canImport(Glibc)
  import Glibc
#endif

enum WatchSignals {
  // Written only by the signal handler (a sig_atomic_t store), read by the loop.
  nonisolated(unsafe) private static var flag: sig_atomic_t = 0

  /// Whether SIGINT or SIGTERM arrived.
  static var stopRequested: Bool { flag != 0 }

  static func install() {
    signal(SIGINT) { _ in WatchSignals.flag = 1 }
    signal(SIGTERM) { _ in WatchSignals.flag = 1 }
    // A parent may have started us with these signals blocked (the mask is inherited): unblock them.
    var set = sigset_t()
    sigemptyset(&set)
    sigaddset(&set, SIGINT)
    sigaddset(&set, SIGTERM)
    pthread_sigmask(SIG_UNBLOCK, &set, nil)
  }

  /// Sleeps until the monotonic time `deadline` (ns) or a stop request.
  static func sleep(until deadline: UInt64) {
    while !stopRequested {
      let now = Clock.now
      guard deadline > now else { return }
      let left = deadline - now
      var ts = timespec(tv_sec: Int(left / 1_000_000_000), tv_nsec: Int(left % 1_000_000_000))
      _ = nanosleep(&ts, nil)  // EINTR on a signal: the loop checks the flag
    }
  }
}
