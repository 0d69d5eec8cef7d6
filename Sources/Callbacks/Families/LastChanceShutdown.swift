// The last-chance-shutdown family (IoRegisterLastChanceShutdownNotification): its descriptor.

import BinaryReading
import Symbols
import WindowsKernel

extension FamilyDescriptor {
  /// Last-chance shutdown notifications.
  public static let lastChanceShutdown = FamilyDescriptor(
    id: "last-chance-shutdown", title: "Last-chance shutdown notifications",
    registration: "IoRegisterLastChanceShutdownNotification",
    heads: [
      FamilyHead(
        "IopNotifyLastChanceShutdownQueueHead",
        .code(exports: ["IoRegisterLastChanceShutdownNotification", "IoUnregisterShutdownNotification"], shape: .list))
    ],
    symbols: ["IoRegisterLastChanceShutdownNotification"],
    structs: ["_SHUTDOWN_PACKET"],
    reader: ShutdownQueueFamily(id: "last-chance-shutdown", symbol: "IopNotifyLastChanceShutdownQueueHead"))
}
