// Every family descriptor, in report order. A new family is one line here plus its descriptor file.

extension FamilyDescriptor {
  /// The descriptors in the order reports list their families.
  public static let all: [FamilyDescriptor] = [
    .processNotify,
    .threadNotify,
    .imageNotify,
    .bugcheck,
    .bugcheckReason,
    .bugcheckAddPages,
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
  public static func named(_ id: String) -> FamilyDescriptor? { indexByID[id].map { all[$0] } }

  /// Each id's position in `all` (the first, should two share one): the head locators look a
  /// reader up per candidate, and a linear search copied descriptors until it matched.
  private static let indexByID: [String: Int] = {
    var index: [String: Int] = [:]
    for (i, d) in all.enumerated() where index[d.id] == nil { index[d.id] = i }
    return index
  }()

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
