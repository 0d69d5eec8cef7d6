// The KernelCallbackTable scanner: a process whose EPROCESS and PEB are in the input; its table
// pointer, loader list, VADs and slots are read, then checked against the majority table.

import Analysis
import Callbacks
import WindowsKernel

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzKCTScanner(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let bytes = fuzzBytes(data, size)
  let kernel = FuzzKernel.kernel(bytes)
  // Two processes sharing the input: EPROCESS at +0x100 / +0x900, PEB at user +0x1000 / +0x1800.
  let processes = [(0x100, 0x1000), (0x900, 0x1800)].enumerated().map { i, at in
    Process(
      pid: UInt64(4 * (i + 1)), ppid: 0, name: "p\(i)", eprocess: HostileSpace.kernelBase + UInt64(at.0), dtb: 0,
      peb: HostileSpace.userBase + UInt64(at.1), createTime: 0, exitTime: 0)
  }
  let gathered = KernelCallbackTableScanner.gather(kernel, processes: processes)
  let majority = KernelCallbackTableScanner.majority(gathered, kernel: kernel)
  _ = CallbackTableVerdicts.check(gathered, expected: majority, kernel: kernel)
  _ = CallbackTableVerdicts.check(gathered, expected: nil, kernel: kernel)
  return 0
}
