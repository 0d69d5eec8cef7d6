// The filesystem-disk family (IoRegisterFileSystem (disk)): its descriptor.

import BinaryReading
import Symbols
import WindowsKernel

extension FamilyDescriptor {
  /// IoRegisterFileSystem queues the file system's device by DEVICE_OBJECT.DeviceType (wdm.h FILE_DEVICE_*: 0x08 here).
  public static let fileSystemDisk = FamilyDescriptor(
    id: "filesystem-disk", title: "Registered disk file systems (their DriverInit)",
    registration: "IoRegisterFileSystem (disk)",
    heads: [
      FamilyHead(
        "IopDiskFileSystemQueueHead",
        .code(exports: ["IoRegisterFileSystem"], shape: .list, condition: 0x08, discriminator: .deviceType(0x08)))
    ],
    symbols: ["IoRegisterFileSystem"],
    reader: FileSystemQueueFamily(id: "filesystem-disk", symbol: "IopDiskFileSystemQueueHead"))
}
