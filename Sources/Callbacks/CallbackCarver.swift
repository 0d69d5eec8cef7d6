// `--carve`: one pool-scanner pass finds callback blocks by pool tag, including ones no longer
// linked from their heads (a slot emptied by a rootkit, an unlinked packet). Blocks whose physical
// address matches a structure the list walk already reported are `linked`; the rest are `orphaned`.
// Tags: Cbrb (EX_CALLBACK_ROUTINE_BLOCK), IoSh (SHUTDOWN_PACKET), IoFs (NOTIFICATION_PACKET),
// DbCb (RTL_CALLBACK_REGISTER), CMcb (CM_CALLBACK_CONTEXT_BLOCK), PnpD/PnpC/Pnp9 (PnP notify entries),
// CBRe (CALLBACK_REGISTRATION of a callback object, CallbackCarver+Registrations.swift).

import AddressSpace
import BinaryReading
import MemoryImage
import Symbols
import WindowsKernel

/// Carves callback blocks out of pool.
public enum CallbackCarver {
  /// Pool tag → the family its block belongs to when orphaned.
  public static let tags: [String: String] = [
    "Cbrb": "notify-block", "IoSh": "shutdown", "IoFs": "fs-registration", "DbCb": "debug-print", "CMcb": "registry",
    "PnpD": "pnp-device-class", "PnpC": "pnp-profile", "Pnp9": "pnp-device-class", "CBRe": "callback-object",
  ]

  /// The outcome: orphaned entries, and how many carved blocks matched listed ones.
  public struct Outcome: Sendable {
    public var orphaned: [CallbackEntry]
    public var linkedCount: Int
    public var scanned: Int
  }

  /// Carves `hits` (from one PoolScanner pass with `tags`) against the listed `results`.
  public static func carve(_ c: CallbackContext, hits: [PoolHit], results: [FamilyResult]) -> Outcome {
    let space = c.kernel.space
    // Physical addresses of every structure the walks reported.
    var listed: Set<UInt64> = []
    for result in results {
      for entry in result.entries {
        if let object = entry.object, let t = try? space.translate(object) { listed.insert(t.physical) }
      }
    }
    let headerSize: UInt64 = c.pointerSize == 8 ? 16 : 8
    var orphaned: [CallbackEntry] = []
    var linked = 0
    var scanned = 0
    for hit in hits {
      guard let family = tags[hit.tag] else { continue }
      scanned += 1
      let block = hit.header &+ headerSize  // the structure follows the pool header
      if listed.contains(block) {
        linked += 1
        continue
      }
      // The structure must fit in the block the header describes.
      guard hit.blockSize >= Int(headerSize) + minimumSize(c, tag: hit.tag),
        let carved = carve(c, tag: hit.tag, physical: block), carved.routine != 0,
        c.kernel.isKernelAddress(carved.routine)
      else { continue }
      orphaned.append(
        CallbackEntry(
          family: family, head: carved.head, headSymbol: carved.headSymbol ?? "pool:\(hit.tag)", index: nil,
          routine: carved.routine, object: nil,
          details: [
            ("carve", .string("orphaned")), ("linked", .bool(false)), ("poolTag", .string(hit.tag)),
            ("physicalAddress", .address(block)),
          ]
            + carved.details,
          flags: ["orphaned"], provenance: .pattern))
    }
    return Outcome(orphaned: orphaned, linkedCount: linked, scanned: scanned)
  }

  /// The decoded block of `tag` at physical `physical`.
  private static func carve(_ c: CallbackContext, tag: String, physical: UInt64) -> Carved? {
    if tag == "CBRe" { return registration(c, physical: physical) }
    guard let (routine, details) = decode(c, tag: tag, physical: physical) else { return nil }
    return Carved(routine, details)
  }

  /// Reads a pointer-sized value of a physical structure.
  static func pointer(_ c: CallbackContext, _ physical: UInt64, _ offset: UInt64) -> UInt64? {
    let memory = c.kernel.space.memory
    if c.pointerSize == 8 { return try? memory.readUInt64(at: physical &+ offset) }
    return (try? memory.readUInt32(at: physical &+ offset)).map(UInt64.init)
  }

  /// The routine (and details) of a carved block, decoded from physical memory.
  static func decode(_ c: CallbackContext, tag: String, physical: UInt64) -> (UInt64, [(String, DetailValue)])? {
    let l = c.layouts
    switch tag {
    case "Cbrb":
      guard let routine = pointer(c, physical, l.callbackRoutineBlock["Function"]),
        let context = pointer(c, physical, l.callbackRoutineBlock["Context"])
      else { return nil }
      let (array, evidence) = notifyArray(context: context)
      return (
        routine,
        [("context", .address(context)), ("array", .string(array)), ("arrayEvidence", .string(evidence))]
      )
    case "IoSh":
      guard let device = pointer(c, physical, l.shutdownPacket["DeviceObject"]),
        let driver = try? DriverObjects.driver(ofDevice: device, c),
        let routine = try? DriverObjects.majorFunction(DriverObjects.irpMajorShutdown, driver: driver, c)
      else { return nil }
      return (routine, [("deviceObject", .address(device))] + DriverObjects.details(c, driver: driver))
    case "IoFs":
      guard let routine = pointer(c, physical, l.notificationPacket["NotificationRoutine"]) else { return nil }
      let driver = pointer(c, physical, l.notificationPacket["DriverObject"]) ?? 0
      return (routine, DriverObjects.details(c, driver: driver))
    case "DbCb":
      guard let routine = pointer(c, physical, l.debugPrintCallback["DebugPrintCallback"]) else { return nil }
      return (routine, [])
    case "CMcb":
      guard let routine = pointer(c, physical, l.registryCallback["Function"]) else { return nil }
      let cookie = (try? c.kernel.space.memory.readUInt64(at: physical &+ l.registryCallback["Cookie"])) ?? 0
      return (routine, [("cookie", .address(cookie))])
    default:
      guard let routine = pointer(c, physical, l.pnpNotifyEntry["CallbackRoutine"]) else { return nil }
      let driver = pointer(c, physical, l.pnpNotifyEntry["DriverObject"]) ?? 0
      return (routine, DriverObjects.details(c, driver: driver))
    }
  }
}
