// The driver-reinit family (IoRegisterDriverReinitialization, IoRegisterBootDriverReinitialization):
// routines a driver asks the I/O manager to call again after the other drivers have initialised.
// The packets wait on IopDriverReinitializeQueueHead and IopBootDriverReinitializeQueueHead until
// they run, so a booted system usually has none; one that stays is worth seeing. REINIT_PACKET is
// not in the public PDB: {ListEntry, DriverObject, DriverReinitializationRoutine, Context} (WRK iop.h).

import BinaryReading
import Symbols
import WindowsKernel

extension FamilyDescriptor {
  /// REINIT_PACKETs of both reinitialisation queues.
  public static let driverReinitialization = FamilyDescriptor(
    id: "driver-reinit", title: "Driver reinitialization routines (pending)",
    registration: "IoRegisterDriverReinitialization / IoRegisterBootDriverReinitialization",
    heads: [
      FamilyHead("IopDriverReinitializeQueueHead", .code(exports: ["IoRegisterDriverReinitialization"], shape: .list)),
      FamilyHead(
        "IopBootDriverReinitializeQueueHead", .code(exports: ["IoRegisterBootDriverReinitialization"], shape: .list)),
    ],
    symbols: ["IoRegisterDriverReinitialization", "IoRegisterBootDriverReinitialization"],
    reader: InitialisedListGuard(inner: DriverReinitializationReader(), heads: DriverReinitializationReader.queues))
}

/// Reads both reinitialisation queues into one family.
public struct DriverReinitializationReader: CallbackFamily {
  public var ids: [String] { ["driver-reinit"] }
  public init() {}

  static let queues = ["IopDriverReinitializeQueueHead", "IopBootDriverReinitializeQueueHead"]

  public func collect(_ c: CallbackContext) -> [FamilyResult] {
    let id = "driver-reinit"
    let heads = Self.queues.compactMap { symbol in (try? c.head(symbol)).map { (symbol, $0) } }
    guard !heads.isEmpty else {
      return [FamilyResult(family: id, notLocated: c.kernel.missing(Self.queues[0]).description)]
    }
    let packet = c.layouts.reinitPacket
    var result = FamilyResult(family: id)
    for (symbol, head) in heads {
      let list = c.list(head.address, what: symbol)
      if let warning = list.warning { result.warnings.append(warning) }
      for (position, link) in list.entries.enumerated() {
        let record = link  // ListEntry is the packet's first member
        do throws(WindowsKernelError) {
          let routine = try c.kernel.readPointer(record &+ (try packet["DriverReinitializationRoutine"]))
          let driver = c.pointer(record &+ (try packet["DriverObject"]))
          let context = c.pointer(record &+ (try packet["Context"]))
          guard routine != 0 else { continue }
          result.entries.append(
            CallbackEntry(
              family: id, head: head.address, headSymbol: symbol, index: position, routine: routine, object: record,
              details: [("boot", .bool(symbol.contains("Boot"))), ("context", .address(orNull: context))]
                + DriverObjects.details(c, driver: driver),
              provenance: head.provenance))
        } catch {
          result.warnings.append("driver-reinit record at \(Hex.format(record)): \(error)")
        }
      }
    }
    return [result]
  }
}
