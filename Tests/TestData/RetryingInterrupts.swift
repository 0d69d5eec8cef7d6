// Socket calls of the test peers, made again when a signal interrupts them.

#if canImport(Glibc)
  import Glibc
#endif

/// The result of `call`, made again while it fails with EINTR. The test process gets SIGCHLD from
/// the QEMU and tool processes other suites start; an interrupted accept or recv is not the client
/// going away (a peer that took it so closed its listener under a queued client and failed a CI run).
public func retryingInterrupts<Result: SignedInteger>(_ call: () -> Result) -> Result {
  while true {
    let result = call()
    if result < 0, errno == EINTR { continue }
    return result
  }
}
