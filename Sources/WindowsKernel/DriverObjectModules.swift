// Driver objects in `\Driver` and `\FileSystem`: each names its image range (DriverStart,
// DriverSize), so code of a driver that unlinked itself from PsLoadedModuleList still has an owner,
// named after its file (DriverSection → loader entry), see DriverImageName.

import BinaryReading

/// A DRIVER_OBJECT's view of its image.
public struct DriverObjectInfo: Sendable, Hashable {
  public var address: UInt64
  public var name: String
  public var start: UInt64
  public var size: UInt64
  /// DriverInit; nil when unreadable.
  public var driverInit: UInt64?
  /// The image's file name and path (from the loader entry, or from DriverName as the fallback).
  public var image: DriverImageName
}

/// Enumerates driver objects through the object manager.
public enum DriverObjectModules {
  /// Every driver object of `\Driver` and `\FileSystem` (public PDB type _DRIVER_OBJECT).
  public static func read(_ manager: ObjectManager) -> (drivers: [DriverObjectInfo], warnings: [String]) {
    let kernel = manager.kernel
    let offsets: (start: UInt64, size: UInt64, name: UInt64, initRoutine: UInt64, section: UInt64)
    do {
      offsets = (
        try kernel.offset("_DRIVER_OBJECT", "DriverStart"), try kernel.offset("_DRIVER_OBJECT", "DriverSize"),
        try kernel.offset("_DRIVER_OBJECT", "DriverName"), try kernel.offset("_DRIVER_OBJECT", "DriverInit"),
        try kernel.offset("_DRIVER_OBJECT", "DriverSection")
      )
    } catch { return ([], ["driver objects not read: \(error)"]) }
    var drivers: [DriverObjectInfo] = []
    let listed = driverObjects(manager)
    var warnings = listed.unreadable + listed.warnings
    for (object, directory) in listed.objects {
      let at = Hex.format(object.address)
      let start: UInt64
      let size: UInt64
      do {
        start = try kernel.readPointer(object.address &+ offsets.start)
        size = try kernel.readUnsigned(object.address &+ offsets.size, width: 4)
      } catch {
        warnings.append("_DRIVER_OBJECT at \(at): DriverStart/DriverSize: \(error)")
        continue
      }
      guard start != 0, size != 0 else { continue }  // a driver without an image (e.g. \Driver\WMIxWDM)
      let name: String
      do { name = try kernel.readUnicodeString(object.address &+ offsets.name) } catch {
        name = "\(directory)\\\(object.name ?? "?")"
        warnings.append("_DRIVER_OBJECT.DriverName at \(at): \(error); named \(name) from the directory")
      }
      var driverInit: UInt64?
      do { driverInit = try kernel.readPointer(object.address &+ offsets.initRoutine) } catch {
        warnings.append("_DRIVER_OBJECT.DriverInit at \(at): \(error)")
      }
      let image: DriverImageName
      do {
        let section = try kernel.readPointer(object.address &+ offsets.section)
        image = try DriverImageName.fromLoaderEntry(kernel, section: section, driverStart: start)
      } catch {
        image = DriverImageName.fromDriverName(name)
        warnings.append(
          "\(name) (_DRIVER_OBJECT at \(at)): loader entry unreadable (\(error)); named from DriverName")
      }
      drivers.append(
        DriverObjectInfo(
          address: object.address, name: name, start: start, size: size, driverInit: driverInit, image: image))
    }
    return (drivers, warnings)
  }

  /// The driver objects of `\Driver` and `\FileSystem` with the directory each is in (each once, at
  /// most `bound` per directory), what could not be looked up (`\Driver not readable: …`), and the
  /// directories' own warnings.
  public static func driverObjects(_ manager: ObjectManager, bound: Int = 4096) -> (
    objects: [(object: KernelObject, directory: String)], unreadable: [String], warnings: [String]
  ) {
    var objects: [(object: KernelObject, directory: String)] = []
    var seen = Set<UInt64>()
    var unreadable: [String] = []
    var warnings: [String] = []
    for directory in ["\\Driver", "\\FileSystem"] {
      let dir: KernelObject
      do { dir = try manager.lookup(directory) } catch {
        unreadable.append("\(directory) not readable: \(error)")
        continue
      }
      let (entries, w) = manager.entries(ofDirectory: dir.address)
      warnings += w
      for entry in entries.prefix(bound) where entry.typeName == nil || entry.typeName == "Driver" {
        if seen.insert(entry.address).inserted { objects.append((entry, directory)) }
      }
    }
    return (objects, unreadable, warnings)
  }

  /// Driver images as modules (origin `.driverObject`), for ranges no listed module covers.
  public static func modules(_ drivers: [DriverObjectInfo], excluding listed: [LoadedModule]) -> [LoadedModule] {
    drivers.compactMap { d in
      guard !listed.contains(where: { $0.contains(d.start) }) else { return nil }
      return LoadedModule(
        name: d.image.name, path: d.image.path, base: d.start, size: d.size, entry: 0, origin: .driverObject)
    }
  }
}
