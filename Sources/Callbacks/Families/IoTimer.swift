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
          let device = c.pointer(record &+ (try c.offset("_IO_TIMER", "DeviceObject")))
          let driver = device.flatMap { try? DriverObjects.driver(ofDevice: $0, c) }
          let flag = try? c.kernel.readUnsigned(record &+ (try c.offset("_IO_TIMER", "TimerFlag")), width: 2)
          var details: [(String, DetailValue)] = [
            ("started", flag.map { .bool($0 != 0) } ?? .null),
            ("context", c.pointer(record &+ (try c.offset("_IO_TIMER", "Context"))).map(DetailValue.address) ?? .null),
            ("deviceObject", .address(orNull: device)),
          ]
          details += DriverObjects.details(c, driver: driver)
          return [ListFamily.Row(routine: routine, details: details)]
        }),
      heads: ["IopTimerQueueHead"]))
}
