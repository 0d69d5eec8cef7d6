// The bound-callback family (KeRegisterBoundCallback): the routine the kernel calls when user code
// raises a BOUND-instruction exception (#BR), before the exception reaches the process — a way to run
// kernel code on demand from user mode.

extension FamilyDescriptor {
  /// KiBoundsCallback.
  public static let boundCallback = FamilyDescriptor(
    id: "bound-callback", title: "Bound-exception callback (#BR from user mode)",
    registration: "KeRegisterBoundCallback",
    heads: [FamilyHead("KiBoundsCallback", .code(exports: ["KeRegisterBoundCallback"], shape: .pointerOrNull))],
    symbols: ["KeRegisterBoundCallback"], builds: 10240...Int.max,
    reader: SingleRoutineFamily(id: "bound-callback", symbol: "KiBoundsCallback"))
}
