// I/O manager queues: shutdown notifications (SHUTDOWN_PACKET → DEVICE_OBJECT → DRIVER_OBJECT →
// MajorFunction[IRP_MJ_SHUTDOWN]) and registered file systems (DEVICE_OBJECT.Queue.ListEntry chains;
// the routine shown is the driver's DriverInit, as WinObjEx64 does).

import BinaryReading
import Symbols
import WindowsKernel

/// Shutdown and last-chance shutdown queues.
public struct ShutdownFamily: CallbackFamily {
  public var ids: [String] { ["shutdown", "last-chance-shutdown"] }
  public init() {}

  public func collect(_ context: CallbackContext) -> [FamilyResult] {
    [
      queue(context, id: "shutdown", symbol: "IopNotifyShutdownQueueHead"),
      queue(context, id: "last-chance-shutdown", symbol: "IopNotifyLastChanceShutdownQueueHead"),
    ]
  }

  private func queue(_ c: CallbackContext, id: String, symbol: String) -> FamilyResult {
    let head: (address: UInt64, provenance: Provenance)
    do { head = try c.head(symbol) } catch { return FamilyResult(family: id, notLocated: error.description) }
    var result = FamilyResult(family: id)
    let packet = c.layouts.shutdownPacket
    let list = c.list(head.address, what: symbol)
    if let w = list.warning { result.warnings.append(w) }
    for (position, entry) in list.entries.enumerated() {
      let record = entry &- packet["ListEntry"]  // ListEntry is the first member
      do {
        let device = try c.kernel.readPointer(record &+ packet["DeviceObject"])
        let driver = try DriverObjects.driver(ofDevice: device, c)
        let routine = try DriverObjects.majorFunction(DriverObjects.irpMajorShutdown, driver: driver, c)
        guard routine != 0 else { continue }
        result.entries.append(
          CallbackEntry(
            family: id, head: head.address, headSymbol: symbol, index: position, routine: routine, object: record,
            details: [("deviceObject", .address(device))] + DriverObjects.details(c, driver: driver)
              + [("irpMajor", .int(Int64(DriverObjects.irpMajorShutdown)))],
            provenance: head.provenance))
      } catch {
        result.warnings.append("\(id) packet at \(Hex.format(record)): \(error)")
      }
    }
    return result
  }
}

/// IoRegisterFileSystem queues: disk, CD-ROM, network and tape file systems.
public struct FileSystemQueueFamily: CallbackFamily {
  static let queues: [(id: String, symbol: String)] = [
    ("filesystem-disk", "IopDiskFileSystemQueueHead"), ("filesystem-cdrom", "IopCdRomFileSystemQueueHead"),
    ("filesystem-network", "IopNetworkFileSystemQueueHead"), ("filesystem-tape", "IopTapeFileSystemQueueHead"),
  ]
  public var ids: [String] { Self.queues.map(\.id) }
  public init() {}

  public func collect(_ context: CallbackContext) -> [FamilyResult] {
    Self.queues.map { queue(context, id: $0.id, symbol: $0.symbol) }
  }

  private func queue(_ c: CallbackContext, id: String, symbol: String) -> FamilyResult {
    let head: (address: UInt64, provenance: Provenance)
    let link: UInt64
    do {
      head = try c.head(symbol)
      // DEVICE_OBJECT.Queue is a union whose first member is the LIST_ENTRY used by these queues.
      link = try c.kernel.offset("_DEVICE_OBJECT", "Queue")
    } catch { return FamilyResult(family: id, notLocated: error.description) }
    var result = FamilyResult(family: id)
    let list = c.list(head.address, what: symbol)
    if let w = list.warning { result.warnings.append(w) }
    for (position, entry) in list.entries.enumerated() {
      let device = entry &- link  // the queue link lies inside the device object
      do {
        let driver = try DriverObjects.driver(ofDevice: device, c)
        let routine = try DriverObjects.driverInit(driver: driver, c)
        guard routine != 0 else { continue }
        result.entries.append(
          CallbackEntry(
            family: id, head: head.address, headSymbol: symbol, index: position, routine: routine, object: device,
            details: [
              ("deviceObject", .address(device)),
              ("deviceName", DriverObjects.deviceName(c, device: device).map(DetailValue.string) ?? .null),
            ] + DriverObjects.details(c, driver: driver) + [("reportedAddress", .string("DriverObject.DriverInit"))],
            provenance: head.provenance))
      } catch {
        result.warnings.append("\(id) device at \(Hex.format(device)): \(error)")
      }
    }
    return result
  }
}
