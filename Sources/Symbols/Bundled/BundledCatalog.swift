// What the kernel model reads from a kernel's symbols, kept in the bundled profiles (every field of
// each listed struct is kept, plus the anonymous types embedded in them); the callback families add
// theirs from their descriptors when the bundle is written.

/// The symbols and structs of the kernel model the bundled profiles hold for every build. The callback
/// families' own symbols and structs come from their descriptors (Callbacks' FamilyDescriptor), which
/// `callscope symbols bundle` adds to these.
public enum BundledCatalog {
  /// The kernel model's variables and functions.
  public static let symbols: [String] = kernelModel

  /// Globals of the kernel model: modules, processes, object manager, pool, build.
  public static let kernelModel: [String] = [
    "PsLoadedModuleList", "PsActiveProcessHead", "PsInitialSystemProcess", "PsIdleProcess", "PspCidTable",
    "ObpRootDirectoryObject", "ObTypeIndexTable", "ObHeaderCookie", "ObpInfoMaskToOffset", "ObpTypeObjectType",
    "ObpDirectoryObjectType", "ObpSymbolicLinkObjectType", "ObpKernelHandleTable", "PsProcessType", "PsThreadType",
    "ExDesktopObjectType", "IoDriverObjectType", "IoDeviceObjectType", "IoFileObjectType", "KdDebuggerDataBlock",
    "KdVersionBlock", "KiWaitNever", "KiWaitAlways", "NtBuildNumber", "NtBuildLab", "NtBuildLabEx",
    "CmNtCSDVersion", "MmPfnDatabase", "MmSystemRangeStart", "MmHighestUserAddress", "MmUserProbeAddress",
    "MmPagedPoolStart", "MmNonPagedPoolStart", "PoolBigPageTable", "PoolBigPageTableSize", "ExpPoolBigPageTable",
    "PoolTrackTable", "PoolTrackTableSize", "KeNumberProcessors", "KiProcessorBlock", "KeServiceDescriptorTable",
    "KeServiceDescriptorTableShadow", "KiServiceTable", "KiServiceLimit", "MmLoadedUserImageList",
    "PsNtosImageBase", "PsHalImageBase", "KiSystemCall64", "KiSystemCall64Shadow", "KeUserCallbackDispatcher",
    "MmUnloadedDrivers", "MmLastUnloadedDriver", "IopRootDeviceNode", "ExpSystemResourcesList",
    // KeUserModeCallback: the kernel's way into user mode (trace); ALPC log callbacks (no family yet).
    "KeUserModeCallback", "AlpcpLogCallbackListHead",
  ]

  /// The kernel model's structs and unions, kept with every field.
  public static let structs: [String] = [
    "_EPROCESS", "_KPROCESS", "_ETHREAD", "_KTHREAD", "_PEB", "_PEB32", "_PEB_LDR_DATA", "_LDR_DATA_TABLE_ENTRY",
    "_KLDR_DATA_TABLE_ENTRY", "_RTL_USER_PROCESS_PARAMETERS", "_CURDIR", "_UNICODE_STRING", "_STRING", "_LIST_ENTRY",
    "_SINGLE_LIST_ENTRY", "_LIST_ENTRY32", "_LIST_ENTRY64", "_CLIENT_ID", "_KAPC_STATE", "_OBJECT_HEADER",
    "_OBJECT_HEADER_NAME_INFO", "_OBJECT_HEADER_CREATOR_INFO", "_OBJECT_HEADER_PROCESS_INFO",
    "_OBJECT_HEADER_QUOTA_INFO", "_OBJECT_HEADER_HANDLE_INFO", "_OBJECT_HEADER_AUDIT_INFO", "_OBJECT_DIRECTORY",
    "_OBJECT_DIRECTORY_ENTRY", "_OBJECT_SYMBOLIC_LINK", "_OBJECT_TYPE", "_OBJECT_TYPE_INITIALIZER",
    "_OBJECT_NAME_INFORMATION", "_SE_AUDIT_PROCESS_CREATION_INFO", "_EX_FAST_REF", "_EX_RUNDOWN_REF", "_EX_PUSH_LOCK",
    "_EX_CALLBACK", "_DEVICE_OBJECT", "_DRIVER_OBJECT", "_DRIVER_EXTENSION", "_DEVOBJ_EXTENSION", "_POOL_HEADER",
    "_POOL_TRACKER_BIG_PAGES", "_MMVAD_SHORT", "_MMVAD", "_MMVAD_FLAGS", "_MMVAD_FLAGS1", "_RTL_BALANCED_NODE",
    "_RTL_AVL_TREE", "_KUSER_SHARED_DATA", "_SUBSECTION", "_CONTROL_AREA", "_FILE_OBJECT", "_EWOW64PROCESS",
    "_HANDLE_TABLE", "_HANDLE_TABLE_ENTRY", "_KDDEBUGGER_DATA64", "_DBGKD_GET_VERSION64", "_KPRCB", "_KPCR",
    "_IMAGE_DOS_HEADER", "_IMAGE_NT_HEADERS64", "_IMAGE_NT_HEADERS", "_IMAGE_FILE_HEADER", "_IMAGE_OPTIONAL_HEADER64",
    "_IMAGE_OPTIONAL_HEADER", "_IMAGE_DATA_DIRECTORY", "_IMAGE_SECTION_HEADER", "_IMAGE_DEBUG_DIRECTORY",
    "_IMAGE_EXPORT_DIRECTORY", "_GUID", "_LARGE_INTEGER", "_DISPATCHER_HEADER", "_KEVENT", "_KTIMER",
  ]

  /// True for the compiler-named anonymous types a listed struct embeds (kept with it).
  static func isAnonymous(_ name: String) -> Bool {
    name.hasPrefix("__unnamed") || name.hasPrefix("<unnamed") || name.hasPrefix("<anonymous")
  }
}
