// The x86 "kernel" of the x86 trace tests: an i686 DLL built with clang (CodeView) and lld-link
// /debug whose PDB carries the structures `trace` reads, laid out at their published x86 offsets,
// and which exports KeUserModeCallback. The C source checks every offset with _Static_assert, so
// the PDB says what the comments say. Sources of the offsets (all Windows 7 SP1 x86 unless noted,
// from the public ntkrpamp.pdb types):
// - KPCR.SelfPcr 0x1C, Prcb 0x20, IDT 0x38, PrcbData 0x120; KPRCB.CurrentThread 0x4 (so the
//   current thread is fs:[0x124]) — the Windows Research Kernel's nti386.h and the `KTHREAD_OFFSET
//   0x124` of the HackSys Extreme Vulnerable Driver's Windows 7 x86 exploits;
// - KTHREAD.ApcState 0x40 with KAPC_STATE.Process 0x10 (`EPROCESS_OFFSET 0x050` there), KTHREAD
//   .TrapFrame 0x128, ETHREAD.Cid 0x22C, CLIENT_ID.UniqueThread 0x4;
// - EPROCESS.UniqueProcessId 0xB4 (`PID_OFFSET 0x0B4` there), ImageFileName 0x16C, Peb 0x1A8;
// - KTRAP_FRAME.Ebp 0x60, Eip 0x68, HardwareEsp 0x74 (ntdiff/headers, Win10_1903_RS6/x86
//   _KTRAP_FRAME.h; unchanged since NT 4);
// - PEB.Ldr 0xC, PEB_LDR_DATA.InLoadOrderModuleList 0xC, LDR_DATA_TABLE_ENTRY.InLoadOrderLinks 0x0,
//   DllBase 0x18, SizeOfImage 0x20, BaseDllName 0x2C (winternl.h's PEB and LDR_DATA_TABLE_ENTRY
//   agree on Ldr and DllBase), UNICODE_STRING.Length 0, Buffer 4 (ntdef.h).

import Foundation
import TestData

/// The built x86 kernel and its PDB.
struct TraceX86Kernel {
  /// Published x86 offsets (see the header comment), the C source's and the guest's.
  enum Offset {
    static let kpcrSelf: UInt64 = 0x1C
    static let kpcrPrcb: UInt64 = 0x20
    static let kpcrIdt: UInt64 = 0x38
    static let kpcrPrcbData: UInt64 = 0x120
    static let prcbCurrentThread: UInt64 = 0x4
    static let threadApcState: UInt64 = 0x40
    static let apcStateProcess: UInt64 = 0x10
    static let threadTrapFrame: UInt64 = 0x128
    static let ethreadCid: UInt64 = 0x22C
    static let cidUniqueThread: UInt64 = 0x4
    static let processPid: UInt64 = 0xB4
    static let processImageFileName: UInt64 = 0x16C
    static let processPeb: UInt64 = 0x1A8
    static let trapEbp: UInt64 = 0x60
    static let trapEip: UInt64 = 0x68
    static let trapHardwareEsp: UInt64 = 0x74
    static let pebLdr: UInt64 = 0xC
    static let ldrInLoadOrder: UInt64 = 0xC
    static let entryDllBase: UInt64 = 0x18
    static let entrySizeOfImage: UInt64 = 0x20
    static let entryBaseDllName: UInt64 = 0x2C
    static let stringBuffer: UInt64 = 0x4
  }

  /// Where lld-link puts it (a 32-bit kernel address, as ntoskrnl is loaded above 2 GiB).
  static let base: UInt64 = 0x8240_0000

  static let source = """
    #include <stddef.h>
    typedef struct _LIST_ENTRY { struct _LIST_ENTRY *Flink, *Blink; } LIST_ENTRY;
    typedef struct _UNICODE_STRING { unsigned short Length, MaximumLength; unsigned short *Buffer; } UNICODE_STRING;
    typedef struct _CLIENT_ID { void *UniqueProcess; void *UniqueThread; } CLIENT_ID;
    typedef struct _KAPC_STATE { LIST_ENTRY ApcListHead[2]; struct _KPROCESS *Process; char Rest[4]; } KAPC_STATE;
    typedef struct _KTRAP_FRAME {
      char Before[0x60]; unsigned long Ebp, ErrCode, Eip, SegCs, EFlags, HardwareEsp, HardwareSegSs;
    } KTRAP_FRAME;
    typedef struct _KTHREAD {
      char Header[0x40]; KAPC_STATE ApcState; char Middle[0x128 - 0x58]; KTRAP_FRAME *TrapFrame; char Rest[0x200 - 0x12C];
    } KTHREAD;
    typedef struct _ETHREAD { KTHREAD Tcb; char Middle[0x22C - 0x200]; CLIENT_ID Cid; } ETHREAD;
    typedef struct _PEB_LDR_DATA {
      unsigned long Length; unsigned char Initialized; void *SsHandle; LIST_ENTRY InLoadOrderModuleList;
    } PEB_LDR_DATA;
    typedef struct _PEB {
      unsigned char InheritedAddressSpace, ReadImageFileExecOptions, BeingDebugged, BitField;
      void *Mutant; void *ImageBaseAddress; PEB_LDR_DATA *Ldr;
    } PEB;
    typedef struct _LDR_DATA_TABLE_ENTRY {
      LIST_ENTRY InLoadOrderLinks, InMemoryOrderLinks, InInitializationOrderLinks;
      void *DllBase; void *EntryPoint; unsigned long SizeOfImage; UNICODE_STRING FullDllName, BaseDllName;
    } LDR_DATA_TABLE_ENTRY;
    typedef struct _EPROCESS {
      char Pcb[0xB4]; void *UniqueProcessId; LIST_ENTRY ActiveProcessLinks; char Middle[0x16C - 0xC0];
      unsigned char ImageFileName[15]; char Middle2[0x1A8 - 0x17B]; PEB *Peb; char Rest[0x2C0 - 0x1AC];
    } EPROCESS;
    typedef struct _KPRCB { unsigned short MinorVersion, MajorVersion; KTHREAD *CurrentThread; char Rest[0x10]; } KPRCB;
    typedef struct _KPCR {
      char NtTib[0x1C]; struct _KPCR *SelfPcr; KPRCB *Prcb; char Middle[0x38 - 0x24]; void *IDT;
      char Middle2[0x120 - 0x3C]; KPRCB PrcbData;
    } KPCR;
    _Static_assert(offsetof(KPCR, SelfPcr) == \(Offset.kpcrSelf), "KPCR.SelfPcr");
    _Static_assert(offsetof(KPCR, Prcb) == \(Offset.kpcrPrcb), "KPCR.Prcb");
    _Static_assert(offsetof(KPCR, IDT) == \(Offset.kpcrIdt), "KPCR.IDT");
    _Static_assert(offsetof(KPCR, PrcbData) == \(Offset.kpcrPrcbData), "KPCR.PrcbData");
    _Static_assert(offsetof(KPRCB, CurrentThread) == \(Offset.prcbCurrentThread), "KPRCB.CurrentThread");
    _Static_assert(offsetof(KTHREAD, ApcState) == \(Offset.threadApcState), "KTHREAD.ApcState");
    _Static_assert(offsetof(KAPC_STATE, Process) == \(Offset.apcStateProcess), "KAPC_STATE.Process");
    _Static_assert(offsetof(KTHREAD, TrapFrame) == \(Offset.threadTrapFrame), "KTHREAD.TrapFrame");
    _Static_assert(offsetof(ETHREAD, Cid) == \(Offset.ethreadCid), "ETHREAD.Cid");
    _Static_assert(offsetof(CLIENT_ID, UniqueThread) == \(Offset.cidUniqueThread), "CLIENT_ID.UniqueThread");
    _Static_assert(offsetof(EPROCESS, UniqueProcessId) == \(Offset.processPid), "EPROCESS.UniqueProcessId");
    _Static_assert(offsetof(EPROCESS, ImageFileName) == \(Offset.processImageFileName), "EPROCESS.ImageFileName");
    _Static_assert(offsetof(EPROCESS, Peb) == \(Offset.processPeb), "EPROCESS.Peb");
    _Static_assert(offsetof(KTRAP_FRAME, Ebp) == \(Offset.trapEbp), "KTRAP_FRAME.Ebp");
    _Static_assert(offsetof(KTRAP_FRAME, Eip) == \(Offset.trapEip), "KTRAP_FRAME.Eip");
    _Static_assert(offsetof(KTRAP_FRAME, HardwareEsp) == \(Offset.trapHardwareEsp), "KTRAP_FRAME.HardwareEsp");
    _Static_assert(offsetof(PEB, Ldr) == \(Offset.pebLdr), "PEB.Ldr");
    _Static_assert(offsetof(PEB_LDR_DATA, InLoadOrderModuleList) == \(Offset.ldrInLoadOrder), "InLoadOrderModuleList");
    _Static_assert(offsetof(LDR_DATA_TABLE_ENTRY, DllBase) == \(Offset.entryDllBase), "DllBase");
    _Static_assert(offsetof(LDR_DATA_TABLE_ENTRY, SizeOfImage) == \(Offset.entrySizeOfImage), "SizeOfImage");
    _Static_assert(offsetof(LDR_DATA_TABLE_ENTRY, BaseDllName) == \(Offset.entryBaseDllName), "BaseDllName");
    _Static_assert(offsetof(UNICODE_STRING, Buffer) == \(Offset.stringBuffer), "UNICODE_STRING.Buffer");
    /* One object of each type, so the PDB describes them all. */
    KPCR KiInitialPcr; ETHREAD KiInitialThread; EPROCESS KiInitialProcess; PEB PebTemplate;
    LDR_DATA_TABLE_ENTRY LdrTemplate; KTRAP_FRAME TrapTemplate;
    static volatile long sink;
    __declspec(dllexport) __declspec(noinline) long KeUserModeCallback(unsigned long api, void *in, unsigned long n,
                                                                      void **out, unsigned long *outn) {
      sink = (long)api; sink = (long)n; return 0;
    }
    __declspec(dllexport) __declspec(noinline) void KiDivideErrorFault(void) { sink = 0; sink = 1; sink = 2; }

    """

  let directory: URL
  let pe: LinkedImage

  static func build() throws -> TraceX86Kernel {
    let dir = try TestData.buildDLL(
      source: source, label: "trace-x86-kernel", target: "i686-pc-windows-msvc", name: "ntoskrnl",
      pdbName: "ntkrpamp.pdb", base: base)
    let pe = try LinkedImage(
      directory: dir, imagePath: dir.appendingPathComponent("ntoskrnl.dll").path,
      pdbPath: dir.appendingPathComponent("ntkrpamp.pdb").path)
    guard pe.imageBase == base, pe.exports["KeUserModeCallback"] != nil, pe.exports["KiDivideErrorFault"] != nil else {
      throw TestDataError.tool("the x86 kernel has base 0x\(String(pe.imageBase, radix: 16)) and exports \(pe.exports)")
    }
    return TraceX86Kernel(directory: dir, pe: pe)
  }
}
