// Why `trace` stopped early: a missing profile member, unreadable guest memory, a breakpoint the
// stub refused. Each names the structure, the address and the reason.

/// An error of the trace command (exit status 2).
enum TraceError: Error, CustomStringConvertible {
  /// Guest memory could not be read (`what` says which structure or member).
  case unreadable(what: String, address: UInt64, reason: String)
  /// A member or symbol the trace needs is not in the kernel's profile.
  case missingLayout(String, profile: String)
  /// The stub refused the breakpoint.
  case breakpoint(address: UInt64, reason: String)
  /// The kernel at `--kernel-base` could not be identified.
  case kernel(String)

  var description: String {
    switch self {
    case .unreadable(let what, let address, let reason):
      return "cannot read \(what) at 0x\(String(address, radix: 16)): \(reason)"
    case .missingLayout(let what, let profile): return "\(what) is not in the kernel profile (\(profile))"
    case .breakpoint(let address, let reason):
      return "cannot set a breakpoint on nt!KeUserModeCallback at 0x\(String(address, radix: 16)): \(reason)"
    case .kernel(let reason): return "kernel: \(reason)"
    }
  }
}
