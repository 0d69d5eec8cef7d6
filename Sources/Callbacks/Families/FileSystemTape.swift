// The filesystem-tape family (IoRegisterFileSystem (tape)): its descriptor.

import BinaryReading
import Symbols
import WindowsKernel

extension FamilyDescriptor {
  /// IoRegisterFileSystem queues the file system's device by DEVICE_OBJECT.DeviceType (wdm.h FILE_DEVICE_*: 0x20 here).
  public static let fileSystemTape = FamilyDescriptor(
    id: "filesystem-tape", title: "Registered tape file systems (their DriverInit)",
    registration: "IoRegisterFileSystem (tape)",
    heads: [
      FamilyHead(
        "IopTapeFileSystemQueueHead",
        .code(exports: ["IoRegisterFileSystem"], shape: .list, condition: 0x20, discriminator: .deviceType(0x20)))
    ],
    symbols: ["IoRegisterFileSystem"],
    reader: FileSystemQueueFamily(id: "filesystem-tape", symbol: "IopTapeFileSystemQueueHead"))
}
