// The pico family (PsRegisterPicoProvider): its descriptor.

import BinaryReading
import Symbols
import WindowsKernel

extension FamilyDescriptor {
  /// PS_PICO_PROVIDER_ROUTINES after its Size field (names from the public descriptions of the pico
  /// provider interface; later members are unnamed).
  public static let pico = FamilyDescriptor(
    id: "pico", title: "Pico provider routines", registration: "PsRegisterPicoProvider",
    heads: [FamilyHead("PspPicoProviderRoutines", .code(exports: ["PsRegisterPicoProvider"], shape: .table))],
    symbols: ["PsRegisterPicoProvider"],
    structs: ["_PS_PICO_PROVIDER_ROUTINES"],
    reader: RoutineTableFamily(
      id: "pico", symbols: ["PspPicoProviderRoutines"], sizePrefixed: true, fixedSlots: 0,
      names: [
        "DispatchSystemCall", "ExitThread", "ExitProcess", "DispatchException", "TerminateProcess", "WalkUserStack",
        "ProtectedRanges", "GetAllocatedProcessImageName",
      ]))
}
