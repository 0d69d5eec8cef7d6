// The pnp-target-device family (IoRegisterPlugPlayNotification with
// EventCategoryTargetDeviceChange): routines told when a given device is about to be removed or
// changes — a driver watching a volume or a disk registers here. Each DEVICE_NODE of the device
// tree (from IopRootDeviceNode through Child and Sibling, public PDB type _DEVICE_NODE) keeps its
// registrations on TargetDeviceNotify, as TARGET_DEVICE_NOTIFY_ENTRY records whose leading members
// are the notify-entry header the device-class entries share (WinObjEx64 ntos.h).

import BinaryReading
import Symbols
import WindowsKernel

extension FamilyDescriptor {
  /// TargetDeviceNotify entries of every device node.
  public static let pnpTargetDevice = FamilyDescriptor(
    id: "pnp-target-device", title: "PnP target-device notifications (per device node)",
    registration: "IoRegisterPlugPlayNotification (EventCategoryTargetDeviceChange)",
    heads: [FamilyHead("IopRootDeviceNode", .symbolOnly)],
    structs: ["_DEVICE_NODE"],
    reader: PnPTargetDeviceReader())
}

/// Walks the device tree and each node's TargetDeviceNotify list.
public struct PnPTargetDeviceReader: CallbackFamily {
  public var ids: [String] { ["pnp-target-device"] }
  public init() {}

  /// Device nodes visited at most (a real tree has a few hundred).
  static let bound = 65_536

  public func collect(_ c: CallbackContext) -> [FamilyResult] {
    let id = "pnp-target-device"
    let head: (address: UInt64, provenance: Provenance)
    let root: UInt64
    let child, sibling, notify, instancePath, link, routineOffset: UInt64
    do throws(WindowsKernelError) {
      head = try c.head("IopRootDeviceNode")
      root = try c.kernel.readPointer(head.address)
      guard root != 0 else {
        throw .implausible(address: head.address, structure: "IopRootDeviceNode", detail: "null: no device tree")
      }
      child = try c.offset("_DEVICE_NODE", "Child")
      sibling = try c.offset("_DEVICE_NODE", "Sibling")
      notify = try c.offset("_DEVICE_NODE", "TargetDeviceNotify")
      instancePath = try c.offset("_DEVICE_NODE", "InstancePath")
      link = try c.layouts.pnpNotifyEntry["ListEntry"]
      routineOffset = try c.layouts.pnpNotifyEntry["CallbackRoutine"]
    } catch {
      return [FamilyResult(family: id, notLocated: error.description)]
    }
    var result = FamilyResult(family: id)
    // Depth first over Child/Sibling; each node once (a loop in the tree ends there, with a warning).
    var stack = [root]
    var seen = Set<UInt64>()
    var position = 0
    while let node = stack.popLast() {
      guard seen.count < Self.bound else {
        result.warnings.append("pnp-target-device: more than \(Self.bound) device nodes; the rest not read")
        break
      }
      guard seen.insert(node).inserted else {
        result.warnings.append("pnp-target-device: device node \(Hex.format(node)) reached twice (the tree loops)")
        continue
      }
      guard let first = c.pointer(node &+ child), let next = c.pointer(node &+ sibling) else {
        result.warnings.append("pnp-target-device: _DEVICE_NODE at \(Hex.format(node)) unreadable")
        continue
      }
      for pointer in [next, first] where pointer != 0 {
        if c.kernel.isKernelAddress(pointer) {
          stack.append(pointer)
        } else {
          result.warnings.append(
            "pnp-target-device: _DEVICE_NODE at \(Hex.format(node)) links to \(Hex.format(pointer)), no kernel address")
        }
      }
      let listHead = node &+ notify
      // A node nobody registered on has a self-linked (or, before its first use, null) list.
      guard let flink = c.pointer(listHead), flink != 0, flink != listHead else { continue }
      let path = try? c.kernel.readUnicodeString(node &+ instancePath)
      let list = c.list(listHead, what: "_DEVICE_NODE \(path ?? Hex.format(node)).TargetDeviceNotify")
      if let warning = list.warning { result.warnings.append("pnp-target-device: " + warning) }
      for entryLink in list.entries {
        let entry = entryLink &- link
        guard let routine = c.pointer(entry &+ routineOffset) else {
          result.warnings.append("pnp-target-device entry at \(Hex.format(entry)): CallbackRoutine unreadable")
          continue
        }
        guard routine != 0 else { continue }
        var f = c.fields(c.layouts.pnpNotifyEntry, at: entry)
        let category = f.unsigned("EventCategory", width: 4)
        let driver = f.pointer("DriverObject")
        var details: [(String, DetailValue)] = [
          ("instancePath", path.map(DetailValue.string) ?? .null), ("deviceNode", .address(node)),
          ("eventCategory", category.map { .string(PnPNotifyFamily.categoryName($0)) } ?? .null),
          ("context", .address(orNull: f.pointer("Context"))),
        ]
        details += DriverObjects.details(c, driver: driver)
        result.warnings += f.warnings.map { "pnp-target-device entry at \(Hex.format(entry)): \($0)" }
        result.entries.append(
          CallbackEntry(
            family: id, head: listHead, headSymbol: "IopRootDeviceNode", index: position, routine: routine,
            object: entry, details: details, provenance: head.provenance))
        position += 1
      }
    }
    return [result]
  }
}
