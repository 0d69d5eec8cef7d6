// The minifilter family over hostile memory: the input is fltmgr.sys (its export directory, its
// code and data) and the pool its filters live in. FltGlobals is looked for in the exports' code
// and then by shape in the input, with 19041's published layout; the frames, filters, registration
// arrays, instances and callback nodes it leads to are all the fuzzer's.

import Callbacks
import WindowsKernel

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMinifilter(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let bytes = fuzzBytes(data, size)
  let kernel = FuzzKernel.kernel(bytes)
  let context = CallbackContext(kernel: kernel, build: 19041, readObjects: false)
  let fltmgr = LoadedModule(
    name: "fltmgr.sys", path: "\\SystemRoot\\System32\\drivers\\fltmgr.sys", base: kernel.image.base,
    size: kernel.image.size, entry: kernel.image.base, origin: .loadedModuleList)
  _ = MinifilterReader().read(context, fltmgr: fltmgr, modules: [fltmgr])
  return 0
}
