// SIGINT during `trace`: the handler only sets a flag; the trace loop sees it within 100 ms, stops the
// guest, removes the breakpoint and resumes the guest before exiting.

import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// The SIGINT flag of the trace loop.
enum TraceSignals {
  private static let flag = Atomic<Bool>(false)

  /// Whether SIGINT (or SIGTERM) arrived since `install()`.
  static var interrupted: Bool { flag.load(ordering: .relaxed) }

  /// Routes SIGINT and SIGTERM to the flag.
  static func install() {
    flag.store(false, ordering: .relaxed)
    // A parent may have started us with these blocked (test runners, some shells' job control).
    var set = sigset_t()
    sigemptyset(&set)
    sigaddset(&set, SIGINT)
    sigaddset(&set, SIGTERM)
    pthread_sigmask(SIG_UNBLOCK, &set, nil)
    signal(SIGINT) { _ in TraceSignals.flag.store(true, ordering: .relaxed) }
    signal(SIGTERM) { _ in TraceSignals.flag.store(true, ordering: .relaxed) }
  }
}
