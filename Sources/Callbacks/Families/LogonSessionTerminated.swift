// The logon-session-terminated family (SeRegisterLogonSessionTerminatedRoutine): its descriptor.

import BinaryReading
import Symbols
import WindowsKernel

extension FamilyDescriptor {
  /// SEP_LOGON_SESSION_TERMINATED_NOTIFICATION chains (legacy and Ex).
  public static let logonSessionTerminated = FamilyDescriptor(
    id: "logon-session-terminated", title: "Logon-session terminated routines",
    registration: "SeRegisterLogonSessionTerminatedRoutine",
    heads: [
      FamilyHead(
        "SeFileSystemNotifyRoutinesHead",
        .code(
          exports: ["SeRegisterLogonSessionTerminatedRoutine", "SeUnregisterLogonSessionTerminatedRoutine"],
          shape: .singlyLinked))
    ],
    symbols: ["SeRegisterLogonSessionTerminatedRoutine"],
    structs: ["_SEP_LOGON_SESSION_TERMINATED_NOTIFICATION"],
    reader: SinglyLinkedFamily(
      id: "logon-session-terminated", symbol: "SeFileSystemNotifyRoutinesHead",
      layout: { c throws(WindowsKernelError) in (0, try c.layouts.logonSessionNotification["Next"]) },
      read: { c, record throws(WindowsKernelError) in
        (try c.kernel.readPointer(record &+ (try c.layouts.logonSessionNotification["CallbackRoutine"])), [], [])
      }))
}
