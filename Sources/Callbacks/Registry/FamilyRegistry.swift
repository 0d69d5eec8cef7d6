// Every family descriptor, in report order. A new family is one line here plus its descriptor file.

extension FamilyDescriptor {
  /// The descriptors in the order reports list their families.
  public static let all: [FamilyDescriptor] = [
    .processNotify,
    .threadNotify,
    .imageNotify,
    .bugcheck,
    .bugcheckReason,
    .registry,
    .objectProcess,
    .objectThread,
    .objectDesktop,
    .objectOther,
    .shutdown,
    .lastChanceShutdown,
    .fsRegistration,
    .fileSystemDisk,
    .fileSystemCdRom,
    .fileSystemNetwork,
    .fileSystemTape,
    .logonSessionTerminated,
    .logonSessionTerminatedEx,
    .powerSetting,
    .debugPrint,
    .dbgkLkmd,
    .nmi,
    .callbackObject,
    .pnpDeviceClass,
    .pnpProfile,
    .pnpTargetDevice,
    .codeIntegrity,
    .errataManager,
    .hostExtension,
    .altSyscall,
    .pico,
    .siloMonitor,
    .instrumentationCallback,
    .legoNotify,
    .boundCallback,
    .priorityCallback,
    .win32kCallout,
    .kdPowerHandler,
    .ioTracking,
    .alpcLog,
    .powerCoalescing,
    .etwProvider,
    .etwLogger,
    .minifilter,
    .wfpCallout,
    .irpDispatch,
    .serviceTable,
    .shadowServiceTable,
    .timerDpc,
    .ioTimer,
    .driverReinitialization,
    .objectTypeProcedure,
    .halDispatch,
    .interruptDescriptorTable,
    .interruptObject,
  ]

  /// The descriptor of `id`.
  public static func named(_ id: String) -> FamilyDescriptor? { all.first { $0.id == id } }

  /// Symbols every family needs kept in the bundled profiles, each once, in family order.
  public static var bundledSymbols: [String] { unique(all.flatMap(\.bundledSymbols)) }

  /// Structs every family reads from the profile, each once.
  public static var bundledStructs: [String] { unique(all.flatMap(\.structs)) }

  /// `names` without repeats, first occurrence kept.
  public static func unique(_ names: [String]) -> [String] {
    var seen = Set<String>()
    return names.filter { seen.insert($0).inserted }
  }
}
