// What differs between an x64 and an x86 guest for `trace`: at nt!KeUserModeCallback the ApiNumber
// is RCX on x64 (the first argument of the Microsoft x64 calling convention) and the first stack
// argument on x86 ([esp+4] above the return address, stdcall); the KPCR is GS base on x64 and FS
// base on x86; pointers are 8 or 4 bytes; the KPCR embeds its KPRCB as `Prcb` on x64 and as
// `PrcbData` on x86 (where `Prcb` is a pointer to it); the KPCR's own pointer to itself and its IDT
// are Self +0x18 / IdtBase +0x38 on x64 and SelfPcr +0x1C / IDT +0x38 on x86 (public PDB types of
// every build since Vista; ntdiff/headers Win10_1903_RS6/x86 _KPCR.h); the user stack is walked
// with .pdata on x64 and by the EBP chain on x86 (no function tables there).

import GDBRemote

/// The guest's architecture as `trace` sees it.
enum TraceArchitecture: String {
  case x64, x86

  /// From the stopped CPU: EFER.LMA when the stub has EFER (qemu-system-x86_64 describes a 32-bit
  /// guest with its 64-bit registers), else the target description's architecture.
  static func detect(_ client: GDBClient) -> TraceArchitecture {
    if client.layout.register(named: "efer") != nil, let efer = try? client.readRegister("efer") {
      return efer & (1 << 10) != 0 ? .x64 : .x86
    }
    if let name = client.layout.architecture { return name.contains("64") ? .x64 : .x86 }
    return client.layout.register(named: "rip") != nil ? .x64 : .x86
  }

  var pointerSize: Int { self == .x64 ? 8 : 4 }
  /// The segment base register holding the KPCR in kernel mode.
  var kpcrRegister: String { self == .x64 ? "gs_base" : "fs_base" }
  /// The swapped-out KPCR register (x64's KernelGSBase after swapgs); none on x86.
  var otherKPCRRegister: String? { self == .x64 ? "k_gs_base" : nil }
  /// KPCR member pointing to the KPCR itself.
  var kpcrSelf: UInt64 { self == .x64 ? 0x18 : 0x1C }
  /// KPCR member holding the IDT's address.
  var kpcrIdt: UInt64 { 0x38 }
  /// The KPCR member that embeds the KPRCB.
  var prcbMember: String { self == .x64 ? "Prcb" : "PrcbData" }
  /// Lowest kernel address (x86: the default 2 GiB user space).
  var kernelStart: UInt64 { self == .x64 ? 0xFFFF_8000_0000_0000 : 0x8000_0000 }

  /// The stub's name for a register: the 64-bit name when the stub has it (qemu-system-x86_64
  /// always does), else the 32-bit one (`rip`/`eip`, `rsp`/`esp`, `rcx`/`ecx`).
  static func register(_ wide: String, in client: GDBClient) -> String {
    if client.layout.register(named: wide) != nil { return wide }
    return "e" + wide.dropFirst()
  }
}
