// I/O manager queues: shutdown notifications (SHUTDOWN_PACKET → DEVICE_OBJECT → DRIVER_OBJECT →
// MajorFunction[IRP_MJ_SHUTDOWN]) and registered file systems (DEVICE_OBJECT.Queue.ListEntry chains;
// the routine shown is the driver's DriverInit, as WinObjEx64 does).

import BinaryReading
import Symbols
import WindowsKernel

/// A shutdown queue (IopNotifyShutdownQueueHead or its last-chance sibling).
public struct ShutdownQueueFamily: CallbackFamily {
  public let id: String
  public let symbol: String
  public var ids: [String] { [id] }

  public func collect(_ context: CallbackContext) -> [FamilyResult] { [queue(context, id: id, symbol: symbol)] }

  private func queue(_ c: CallbackContext, id: String, symbol: String) -> FamilyResult {
    let head: (address: UInt64, provenance: Provenance)
    do { head = try c.head(symbol) } catch { return FamilyResult(family: id, notLocated: error.description) }
    var result = FamilyResult(family: id)
    let packet = c.layouts.shutdownPacket
    let list = c.list(head.address, what: symbol)
    if let w = list.warning { result.warnings.append(w) }
    for (position, entry) in list.entries.enumerated() {
      do {
        let record = entry &- (try packet["ListEntry"])  // ListEntry is the first member
        let device = try c.kernel.readPointer(record &+ (try packet["DeviceObject"]))
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
        result.warnings.append("\(id) packet linked at \(Hex.format(entry)): \(error)")
      }
    }
    return result
  }
}

/// One IoRegisterFileSystem queue: disk, CD-ROM, network or tape file systems.
public struct FileSystemQueueFamily: CallbackFamily {
  public let id: String
  public let symbol: String
  public var ids: [String] { [id] }

  public func collect(_ context: CallbackContext) -> [FamilyResult] { [queue(context, id: id, symbol: symbol)] }

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
