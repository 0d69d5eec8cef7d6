// The io-tracking family (IoRegisterIoTracking): routines the I/O manager calls for every tracked
// I/O (performance tracking): a place to see all disk and file I/O from a routine, rarely used.

extension FamilyDescriptor {
  /// IopPerfIoTrackingListHead: LIST_ENTRY, then the routine.
  public static let ioTracking = FamilyDescriptor(
    id: "io-tracking", title: "I/O performance tracking routines", registration: "IoRegisterIoTracking",
    heads: [FamilyHead("IopPerfIoTrackingListHead", .code(exports: ["IoRegisterIoTracking"], shape: .list))],
    symbols: ["IoRegisterIoTracking"],
    reader: ListFamily.routineAfterLink(id: "io-tracking", symbol: "IopPerfIoTrackingListHead"))
}
