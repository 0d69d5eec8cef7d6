// The offsets a hit is read with, all from the kernel's profile (public PDB types of the build):
// KPCR → KPRCB.CurrentThread → KTHREAD.ApcState.Process → EPROCESS, the thread's Cid and TrapFrame,
// and the PEB → Ldr → LDR_DATA_TABLE_ENTRY walk that finds a process's modules. KTRAP_FRAME's
// members are x64's Rip/Rsp/Rbp or x86's Eip/HardwareEsp/Ebp; a profile without the type (the
// bundled layouts of the symbol-less profile keep no _KTRAP_FRAME) takes them from
// TraceTrapFrameLayout, the published layout of the architecture.

import Symbols

/// Member offsets of the structures `trace` reads, resolved once.
struct TraceLayout {
  var currentThread: UInt64  // KPCR.Prcb (x86: PrcbData) + KPRCB.CurrentThread
  var apcProcess: UInt64  // ETHREAD.Tcb + KTHREAD.ApcState + KAPC_STATE.Process
  var trapFrame: UInt64  // ETHREAD.Tcb + KTHREAD.TrapFrame
  var uniqueThread: UInt64  // ETHREAD.Cid + CLIENT_ID.UniqueThread
  var trapRip: UInt64  // KTRAP_FRAME.Rip (x86: Eip)
  var trapRsp: UInt64  // KTRAP_FRAME.Rsp (x86: HardwareEsp)
  /// KTRAP_FRAME.Rbp (x86: Ebp), the usual frame register of user code (nil when the profile lacks it).
  var trapRbp: UInt64?
  /// Bytes per guest pointer: 8 on x64, 4 on x86.
  var pointerSize: Int
  /// Where the KTRAP_FRAME members came from (the profile, or TraceTrapFrameLayout's source).
  var trapFrameSource: String
  var pid: UInt64
  var imageFileName: UInt64
  var peb: UInt64
  var pebLdr: UInt64
  var ldrInLoadOrder: UInt64
  var entryLinks: UInt64
  var entryDllBase: UInt64
  var entrySizeOfImage: UInt64
  var entryBaseDllName: UInt64
  var stringLength: UInt64
  var stringBuffer: UInt64

  init(profile: any KernelProfile, architecture: TraceArchitecture = .x64) throws {
    pointerSize = architecture.pointerSize
    func offset(_ type: String, _ field: String) throws -> UInt64 {
      guard let value = profile.offset(type, field), value >= 0 else {
        throw TraceError.missingLayout("\(type).\(field)", profile: profile.sourceDescription)
      }
      return UInt64(value)
    }
    currentThread = try offset("_KPCR", architecture.prcbMember) + offset("_KPRCB", "CurrentThread")
    let tcb = try offset("_ETHREAD", "Tcb")
    apcProcess = try tcb + offset("_KTHREAD", "ApcState") + offset("_KAPC_STATE", "Process")
    trapFrame = try tcb + offset("_KTHREAD", "TrapFrame")
    uniqueThread = try offset("_ETHREAD", "Cid") + offset("_CLIENT_ID", "UniqueThread")
    let published = architecture == .x86 ? TraceTrapFrameLayout.x86 : TraceTrapFrameLayout.x64
    if profile.offset("_KTRAP_FRAME", published.ripName) != nil {
      trapRip = try offset("_KTRAP_FRAME", published.ripName)
      trapRsp = try offset("_KTRAP_FRAME", published.rspName)
      trapRbp = try? offset("_KTRAP_FRAME", published.rbpName)
      trapFrameSource = profile.sourceDescription
    } else {
      (trapRip, trapRsp, trapRbp) = (published.rip, published.rsp, published.rbp)
      trapFrameSource = published.source
    }
    pid = try offset("_EPROCESS", "UniqueProcessId")
    imageFileName = try offset("_EPROCESS", "ImageFileName")
    peb = try offset("_EPROCESS", "Peb")
    pebLdr = try offset("_PEB", "Ldr")
    ldrInLoadOrder = try offset("_PEB_LDR_DATA", "InLoadOrderModuleList")
    entryLinks = try offset("_LDR_DATA_TABLE_ENTRY", "InLoadOrderLinks")
    entryDllBase = try offset("_LDR_DATA_TABLE_ENTRY", "DllBase")
    entrySizeOfImage = try offset("_LDR_DATA_TABLE_ENTRY", "SizeOfImage")
    entryBaseDllName = try offset("_LDR_DATA_TABLE_ENTRY", "BaseDllName")
    stringLength = try offset("_UNICODE_STRING", "Length")
    stringBuffer = try offset("_UNICODE_STRING", "Buffer")
  }
}
