// The priority-callback family (IoRegisterPriorityCallback): routines the I/O manager calls to
// raise the priority of a thread that holds a resource an I/O waits on. An EX_CALLBACK array like
// the notify arrays (wdbgark walks it so); 8 slots on x64 (the variable spans 0x40 bytes in every
// public symbol file that has it).

extension FamilyDescriptor {
  /// IopUpdatePriorityCallbackRoutine: 8 EX_FAST_REF slots, IopUpdatePriorityCallbackRoutineCount beside it.
  public static let priorityCallback = FamilyDescriptor(
    id: "priority-callback", title: "I/O priority callbacks", registration: "IoRegisterPriorityCallback",
    heads: [
      FamilyHead(
        "IopUpdatePriorityCallbackRoutine",
        .code(exports: ["IoRegisterPriorityCallback"], shape: .fastRefArray(slots: { _ in 8 })))
    ],
    symbols: ["IopUpdatePriorityCallbackRoutineCount", "IoRegisterPriorityCallback"],
    structs: ["_EX_CALLBACK_ROUTINE_BLOCK"],
    reader: NotifyRoutineArrayFamily(
      id: "priority-callback", symbol: "IopUpdatePriorityCallbackRoutine", slots: { _ in 8 }))
}
