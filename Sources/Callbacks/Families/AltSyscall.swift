// The alt-syscall family (PsRegisterAltSystemCallHandler): its descriptor.

import BinaryReading
import Symbols
import WindowsKernel

extension FamilyDescriptor {
  /// Two handler slots.
  public static let altSyscall = FamilyDescriptor(
    id: "alt-syscall", title: "Alternate system-call handlers", registration: "PsRegisterAltSystemCallHandler",
    heads: [FamilyHead("PsAltSystemCallHandlers", .code(exports: ["PsRegisterAltSystemCallHandler"], shape: .table))],
    symbols: ["PsRegisterAltSystemCallHandler"],
    reader: RoutineTableFamily(
      id: "alt-syscall", symbols: ["PsAltSystemCallHandlers"], sizePrefixed: false, fixedSlots: 2, names: []))
}
