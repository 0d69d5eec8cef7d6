// A test hook of debug builds only: with CALLSCOPE_WATCH_STOP_BEFORE_CHECK=1 in the environment,
// each tick's try stops the process (SIGSTOP) after the walk and before the pages it read are read
// again, so a test can rewrite the guest's memory exactly there and resume it (SIGCONT). That is the
// window where a list changing under the walk must be noticed; release builds have no hook.

#if canImport(Glibc)
  import Glibc
#endif

enum WatchTestHook {
  #if DEBUG
    private static let enabled = getenv("CALLSCOPE_WATCH_STOP_BEFORE_CHECK").map { String(cString: $0) == "1" } ?? false
  #endif

  /// Between the walk and the smear check of one try.
  static func beforeCheck() {
    #if DEBUG
      if enabled { raise(SIGSTOP) }
    #endif
  }
}
