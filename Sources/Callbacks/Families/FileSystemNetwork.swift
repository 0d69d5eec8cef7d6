// The filesystem-network family (IoRegisterFileSystem (network)): its descriptor.

import BinaryReading
import Symbols
import WindowsKernel

extension FamilyDescriptor {
  /// IoRegisterFileSystem queues the file system's device by DEVICE_OBJECT.DeviceType (wdm.h FILE_DEVICE_*: 0x14 here).
  public static let fileSystemNetwork = FamilyDescriptor(
    id: "filesystem-network", title: "Registered network file systems (their DriverInit)",
    registration: "IoRegisterFileSystem (network)",
    heads: [
      FamilyHead(
        "IopNetworkFileSystemQueueHead",
        .code(exports: ["IoRegisterFileSystem"], shape: .list, condition: 0x14, discriminator: .deviceType(0x14)))
    ],
    symbols: ["IoRegisterFileSystem"],
    reader: FileSystemQueueFamily(id: "filesystem-network", symbol: "IopNetworkFileSystemQueueHead"))
}
