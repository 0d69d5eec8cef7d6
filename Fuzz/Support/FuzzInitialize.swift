// libFuzzer's start-up hook, one for every target: the bundled layouts the kernel targets read
// (KCTScanner, ListWalk) are loaded before the first input, so the leak check does not see them as
// that input's; for the other targets it is a cheap load they never use.

/// Loads the bundled layouts before the first input.
@_cdecl("LLVMFuzzerInitialize")
public func initialize(
  _ argc: UnsafeMutablePointer<CInt>?,
  _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?
) -> CInt {
  _ = FuzzKernel.layouts.identity
  return 0
}
