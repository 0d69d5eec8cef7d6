// The filesystem-cdrom family (IoRegisterFileSystem (CD-ROM)): its descriptor.

import BinaryReading
import Symbols
import WindowsKernel

extension FamilyDescriptor {
  /// IoRegisterFileSystem queues the file system's device by DEVICE_OBJECT.DeviceType (wdm.h FILE_DEVICE_*: 0x03 here).
  public static let fileSystemCdRom = FamilyDescriptor(
    id: "filesystem-cdrom", title: "Registered CD-ROM file systems (their DriverInit)",
    registration: "IoRegisterFileSystem (CD-ROM)",
    heads: [
      FamilyHead(
        "IopCdRomFileSystemQueueHead",
        .code(exports: ["IoRegisterFileSystem"], shape: .list, condition: 0x03, discriminator: .deviceType(0x03)))
    ],
    symbols: ["IoRegisterFileSystem"],
    reader: FileSystemQueueFamily(id: "filesystem-cdrom", symbol: "IopCdRomFileSystemQueueHead"))
}
