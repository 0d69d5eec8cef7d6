// The io-timer family (IoInitializeTimer): every device's I/O timer, which the I/O manager calls
// once a second while it is started — a way to run code periodically without a callback list.
// IopTimerQueueHead links _IO_TIMER.TimerList (public PDB type); TimerFlag says whether it runs.

import BinaryReading
import Symbols
import WindowsKernel

extension FamilyDescriptor {
  /// _IO_TIMER records on IopTimerQueueHead.
  public static let ioTimer = FamilyDescriptor(
    id: "io-timer", title: "I/O timers (called once a second per device while started)",
    registration: "IoInitializeTimer / IoStartTimer",
    heads: [FamilyHead("IopTimerQueueHead", .code(exports: ["IoInitializeTimer"], shape: .list))],
    symbols: ["IoInitializeTimer"],
    structs: ["_IO_TIMER"],
    reader: InitialisedListGuard(
      inner: ListFamily(
        id: "io-timer", symbol: "IopTimerQueueHead",
        linkOffset: { c throws(WindowsKernelError) in try c.offset("_IO_TIMER", "TimerList") },
        read: { c, record, _ throws(WindowsKernelError) in
          let routine = try c.kernel.readPointer(record &+ (try c.offset("_IO_TIMER", "TimerRoutine")))
          var reads = FieldReads(c, profileStruct: "_IO_TIMER", at: record)
          let device = reads.pointer("DeviceObject")
          let flag = reads.unsigned("TimerFlag", width: 2)
          let context = reads.pointer("Context")
          var driver: UInt64?
          if let device, device != 0 {
            var deviceReads = FieldReads(c, profileStruct: "_DEVICE_OBJECT", at: device)
            driver = deviceReads.pointer("DriverObject")
            reads.warnings += deviceReads.warnings
          }
          var details: [(String, DetailValue)] = [
            ("started", flag.map { .bool($0 != 0) } ?? .null), ("context", .address(orNull: context)),
            ("deviceObject", .address(orNull: device)),
          ]
          details += DriverObjects.details(c, driver: driver)
          return [ListFamily.Row(routine: routine, details: details, warnings: reads.warnings)]
        }),
      heads: ["IopTimerQueueHead"]))
}
