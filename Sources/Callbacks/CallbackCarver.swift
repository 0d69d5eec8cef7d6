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

  /// The outcome: orphaned entries, how many carved blocks matched listed ones, and the members of
  /// carved blocks that could not be read (their details are null) or that a layout lacks.
  public struct Outcome: Sendable {
    public var orphaned: [CallbackEntry]
    public var linkedCount: Int
    public var scanned: Int
    public var warnings: [String] = []
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
    var warnings: [String] = []
    var layoutErrors: Set<String> = []
    for hit in hits {
      guard let family = tags[hit.tag] else { continue }
      scanned += 1
      let block = hit.header &+ headerSize  // the structure follows the pool header
      if listed.contains(block) {
        linked += 1
        continue
      }
      // The structure must fit in the block the header describes.
      let decoded: Carved?
      do {
        guard hit.blockSize >= Int(headerSize) + (try minimumSize(c, tag: hit.tag)) else { continue }
        decoded = try carve(c, tag: hit.tag, physical: block)
      } catch {
        // A layout without a member it needs: said once per tag, not per block.
        if layoutErrors.insert("pool:\(hit.tag): \(error)").inserted { warnings.append("pool:\(hit.tag): \(error)") }
        continue
      }
      guard let carved = decoded, carved.routine != 0, c.kernel.isKernelAddress(carved.routine) else { continue }
      warnings += carved.warnings.map { "pool:\(hit.tag) block at physical \(Hex.format(block)): \($0)" }
      orphaned.append(
        CallbackEntry(
          family: family, head: carved.head, headSymbol: carved.headSymbol ?? "pool:\(hit.tag)", index: nil,
          routine: carved.routine, object: nil,
          details: [
            ("carve", .string("orphaned")), ("linked", .bool(false)), ("poolTag", .string(hit.tag)),
            ("physicalAddress", .address(block)),
          ]
            + carved.details,
          provenance: .pattern))
    }
    return Outcome(orphaned: orphaned, linkedCount: linked, scanned: scanned, warnings: warnings)
  }

  /// The decoded block of `tag` at physical `physical`.
  private static func carve(_ c: CallbackContext, tag: String, physical: UInt64) throws(WindowsKernelError) -> Carved? {
    if tag == "CBRe" { return try registration(c, physical: physical) }
    var warnings: [String] = []
    guard let (routine, details) = try decode(c, tag: tag, physical: physical, warnings: &warnings) else { return nil }
    var carved = Carved(routine, details)
    carved.warnings = warnings
    return carved
  }

  /// Reads a pointer-sized value of a physical structure.
  static func pointer(_ c: CallbackContext, _ physical: UInt64, _ offset: UInt64) -> UInt64? {
    let memory = c.kernel.space.memory
    if c.pointerSize == 8 { return try? memory.readUInt64(at: physical &+ offset) }
    return (try? memory.readUInt32(at: physical &+ offset)).map(UInt64.init)
  }

  /// A member that could not be read from a carved block at physical `physical`.
  static func unreadable(_ layout: CStructLayout, _ member: String, _ physical: UInt64, _ offset: UInt64) -> String {
    WindowsKernelError.unreadableField(
      structName: layout.name, field: member, address: physical &+ offset, reason: "physical address not in the image"
    ).description
  }

  /// The routine (and details) of a carved block, decoded from physical memory; nil when the block's
  /// routine cannot be read (not a block), details that cannot be read are null and a warning.
  static func decode(_ c: CallbackContext, tag: String, physical: UInt64, warnings: inout [String])
    throws(WindowsKernelError) -> (UInt64, [(String, DetailValue)])?
  {
    let l = c.layouts
    switch tag {
    case "Cbrb":
      guard let routine = pointer(c, physical, try l.callbackRoutineBlock["Function"]),
        let context = pointer(c, physical, try l.callbackRoutineBlock["Context"])
      else { return nil }
      let (array, evidence) = notifyArray(context: context)
      return (
        routine,
        [("context", .address(context)), ("array", .string(array)), ("arrayEvidence", .string(evidence))]
      )
    case "IoSh":
      guard let device = pointer(c, physical, try l.shutdownPacket["DeviceObject"]),
        let driver = try? DriverObjects.driver(ofDevice: device, c),
        let routine = try? DriverObjects.majorFunction(DriverObjects.irpMajorShutdown, driver: driver, c)
      else { return nil }
      return (routine, [("deviceObject", .address(device))] + DriverObjects.details(c, driver: driver))
    case "IoFs":
      let packet = l.notificationPacket
      guard let routine = pointer(c, physical, try packet["NotificationRoutine"]) else { return nil }
      let driver = pointer(c, physical, try packet["DriverObject"])
      if driver == nil { warnings.append(unreadable(packet, "DriverObject", physical, try packet["DriverObject"])) }
      return (routine, DriverObjects.details(c, driver: driver))
    case "DbCb":
      guard let routine = pointer(c, physical, try l.debugPrintCallback["DebugPrintCallback"]) else { return nil }
      return (routine, [])
    case "CMcb":
      let block = l.registryCallback
      guard let routine = pointer(c, physical, try block["Function"]) else { return nil }
      let cookieOffset = try block["Cookie"]
      let cookie = try? c.kernel.space.memory.readUInt64(at: physical &+ cookieOffset)
      if cookie == nil { warnings.append(unreadable(block, "Cookie", physical, cookieOffset)) }
      return (routine, [("cookie", .address(orNull: cookie))])
    default:
      let entry = l.pnpNotifyEntry
      guard let routine = pointer(c, physical, try entry["CallbackRoutine"]) else { return nil }
      let driver = pointer(c, physical, try entry["DriverObject"])
      if driver == nil { warnings.append(unreadable(entry, "DriverObject", physical, try entry["DriverObject"])) }
      return (routine, DriverObjects.details(c, driver: driver))
    }
  }
}
