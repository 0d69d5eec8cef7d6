// Kernel variables the crash-dump header names, resolved through the symbol profile when one is
// available (the header stays valid without them: WinDbg and Volatility find the kernel by scanning).

import WindowsKernel

struct KernelSymbolAddresses {
  var kdDebuggerDataBlock: UInt64?
  var psLoadedModuleList: UInt64?
  var psActiveProcessHead: UInt64?
  var pfnDataBase: UInt64?

  static func resolve(system: DiscoveredSystem) -> KernelSymbolAddresses {
    KernelSymbolAddresses()
  }
}
