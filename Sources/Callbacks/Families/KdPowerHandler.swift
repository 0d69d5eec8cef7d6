// The kd-power family (KdRegisterPowerHandler): routines the kernel debugger's transport calls on
// power transitions (kdnet's and kdcom's handlers). A routine outside the debugger transports on
// a machine that never had one attached is worth a look.

extension FamilyDescriptor {
  /// KdpPowerListHead: LIST_ENTRY, then the handler routine.
  public static let kdPowerHandler = FamilyDescriptor(
    id: "kd-power", title: "Kernel-debugger power handlers", registration: "KdRegisterPowerHandler",
    heads: [FamilyHead("KdpPowerListHead", .code(exports: ["KdRegisterPowerHandler"], shape: .list))],
    symbols: ["KdRegisterPowerHandler"],
    reader: ListFamily.routineAfterLink(id: "kd-power", symbol: "KdpPowerListHead"))
}
