// The callback objects Windows creates itself, and what each announces: by their `\Callback` name,
// and, for the unnamed ones, by the kernel variable that holds them (public write-ups of each
// ExCreateCallback / Io*Callback API; WinObjEx64 lists the same objects).

/// What the kernel's own callback objects are for.
public enum KnownCallbackObjects {
  /// `\Callback\<name>` → what registered routines are told.
  public static let byName: [String: String] = [
    "SetSystemTime": "system time changes (ExCbSetSystemTime)",
    "PowerState": "system power-state and AC/DC changes (ExCbPowerState)",
    "ProcessorAdd": "a processor was hot-added (ExCbProcessorAdd)",
    "Phase1InitComplete": "kernel phase-1 initialisation finished (ExCbPhase1InitComplete)",
    "SeImageVerificationDriverInfo":
      "every boot driver image's verification result (SeRegisterImageVerificationCallback; ELAM and AV drivers)",
    "EnlightenmentState": "hypervisor enlightenment changes (ExCbEnlightenmentState)",
    "LicensingData": "licensing data changes",
    "SetSystemState": "system state changes (ExCbSetSystemState)",
    "TcpConnectionCallbackTemp": "tcpip.sys connection notifications",
    "TcpTimerStarvationCallbackTemp": "tcpip.sys timer-starvation notifications",
    "WdProcessNotificationCallback": "Windows Defender's process notifications (created by WdFilter.sys)",
  ]

  /// Kernel variables holding callback objects (named or not) → what they announce.
  public static let byVariable: [(symbol: String, purpose: String)] = [
    ("PnpBootDriverCallbackObject", "boot-start driver initialisation (IoRegisterBootDriverCallback; ELAM drivers)"),
    (
      "ExCbSeImageVerificationDriverInfo",
      "every boot driver image's verification result (SeRegisterImageVerificationCallback)"
    ),
    ("IopSessionCallbackObject", "session state changes (IoRegisterContainerNotification)"),
    ("PnpKsrCallbackObject", "kernel soft restart (PnP)"), ("EtwpKsrCallbackObject", "kernel soft restart (ETW)"),
    ("PipCslCallbackObject", "PnP crash-safe logging"),
  ]
}
