// The families whose structures live in another kernel module, over hostile memory: the input is
// that module (fltmgr.sys, then netio.sys: its export directory, code and data) and the pool its
// structures live in. FltGlobals and gWfpGlobal are looked for in the exports' code and then by
// shape, with 19041's published layouts; the frames, filters, registration arrays, instances and
// callback nodes, the WFP state and its callout table are all the fuzzer's.

import Callbacks
import WindowsKernel

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzModuleFamilies(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let bytes = fuzzBytes(data, size)
  let kernel = FuzzKernel.kernel(bytes)
  let context = CallbackContext(kernel: kernel, build: 19041, readObjects: false)
  func module(_ name: String) -> LoadedModule {
    LoadedModule(
      name: name, path: "\\SystemRoot\\System32\\drivers\\" + name, base: kernel.image.base, size: kernel.image.size,
      entry: kernel.image.base, origin: .loadedModuleList)
  }
  let fltmgr = module("fltmgr.sys")
  _ = MinifilterReader().read(context, fltmgr: fltmgr, modules: [fltmgr])
  _ = WfpCalloutReader().read(context, netio: module("netio.sys"))
  return 0
}
