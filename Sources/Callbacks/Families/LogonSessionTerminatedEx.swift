// The logon-session-terminated-ex family (SeRegisterLogonSessionTerminatedRoutineEx): its descriptor.

import BinaryReading
import Symbols
import WindowsKernel

extension FamilyDescriptor {
  /// The Ex chain: SEP_LOGON_SESSION_TERMINATED_NOTIFICATION records with a context.
  public static let logonSessionTerminatedEx = FamilyDescriptor(
    id: "logon-session-terminated-ex", title: "Logon-session terminated routines (Ex, with context)",
    registration: "SeRegisterLogonSessionTerminatedRoutineEx",
    heads: [
      FamilyHead(
        "SeFileSystemNotifyRoutinesExHead",
        .code(
          exports: ["SeRegisterLogonSessionTerminatedRoutineEx", "SeUnregisterLogonSessionTerminatedRoutineEx"],
          shape: .singlyLinked))
    ],
    symbols: ["SeRegisterLogonSessionTerminatedRoutineEx"],
    structs: ["_SEP_LOGON_SESSION_TERMINATED_NOTIFICATION"],
    reader: SinglyLinkedFamily(
      id: "logon-session-terminated-ex", symbol: "SeFileSystemNotifyRoutinesExHead",
      layout: { c throws(WindowsKernelError) in (0, try c.layouts.logonSessionNotification["Next"]) },
      read: { c, record throws(WindowsKernelError) in
        let l = c.layouts.logonSessionNotification
        let routine = try c.kernel.readPointer(record &+ (try l["CallbackRoutine"]))
        var f = c.fields(l, at: record)
        return (routine, [("context", .address(orNull: f.pointer("Context")))], f.warnings)
      }))
}
