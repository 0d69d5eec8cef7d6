// KTRAP_FRAME's program counter, stack and frame pointer as published, for kernels whose profile
// carries no _KTRAP_FRAME (the symbol-less profile's bundled layouts keep only the kernel model's
// types). The members have not moved since Windows Vista on either architecture:
// - x64: Rbp 0x158, Rip 0x168, Rsp 0x180 — the WDK's ntddk.h (_AMD64_ KTRAP_FRAME, size 0x190) and
//   every public x64 ntkrnlmp.pdb (TraceLayoutTests checks them against the 19041 ISF);
// - x86: Ebp 0x60, Eip 0x68, HardwareEsp 0x74 — the public x86 ntkrpamp.pdb types as dumped in
//   ntdiff/headers (Win10_1903_RS6/x86, _KTRAP_FRAME.h, size 0x8c), the same as the Windows Research
//   Kernel's nti386.h.

/// The three KTRAP_FRAME members `trace` reads, by architecture.
struct TraceTrapFrameLayout {
  var ripName: String
  var rspName: String
  var rbpName: String
  var rip: UInt64
  var rsp: UInt64
  var rbp: UInt64
  var source: String

  static let x64 = TraceTrapFrameLayout(
    ripName: "Rip", rspName: "Rsp", rbpName: "Rbp", rip: 0x168, rsp: 0x180, rbp: 0x158,
    source: "published x64 KTRAP_FRAME (ntddk.h)")
  static let x86 = TraceTrapFrameLayout(
    ripName: "Eip", rspName: "HardwareEsp", rbpName: "Ebp", rip: 0x68, rsp: 0x74, rbp: 0x60,
    source: "published x86 KTRAP_FRAME (public PDB types)")
}
