// The alpc-log family (AlpcRegisterLogRoutine): routines ALPC calls for every port connection and
// message it logs. Windows registers one, ETW's EtwpTraceALPC in ntoskrnl; a routine elsewhere sees
// every ALPC message of the machine (flagged outside-expected-module).

extension FamilyDescriptor {
  /// AlpcpLogCallbackListHead: LIST_ENTRY, then the routine (a 0x18-byte pool block on x64).
  public static let alpcLog = FamilyDescriptor(
    id: "alpc-log", title: "ALPC log routines (every port connection and message)",
    registration: "AlpcRegisterLogRoutine",
    heads: [FamilyHead("AlpcpLogCallbackListHead", .code(exports: ["AlpcRegisterLogRoutine"], shape: .list))],
    symbols: ["AlpcRegisterLogRoutine"],
    reader: ExpectedOwnersFamily(
      inner: ListFamily.routineAfterLink(id: "alpc-log", symbol: "AlpcpLogCallbackListHead"),
      owners: IrpDispatchReader.kernelImageNames))
}
