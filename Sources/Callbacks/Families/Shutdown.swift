// The shutdown family (IoRegisterShutdownNotification): its descriptor.

import BinaryReading
import Symbols
import WindowsKernel

extension FamilyDescriptor {
  /// Shutdown notifications (IRP_MJ_SHUTDOWN of the queued device's driver).
  public static let shutdown = FamilyDescriptor(
    id: "shutdown", title: "Shutdown notifications (IRP_MJ_SHUTDOWN of the queued device's driver)",
    registration: "IoRegisterShutdownNotification",
    heads: [
      FamilyHead(
        "IopNotifyShutdownQueueHead",
        .code(exports: ["IoRegisterShutdownNotification", "IoUnregisterShutdownNotification"], shape: .list))
    ],
    symbols: ["IoRegisterShutdownNotification"],
    structs: ["_SHUTDOWN_PACKET"],
    reader: ShutdownQueueFamily(id: "shutdown", symbol: "IopNotifyShutdownQueueHead"))
}
