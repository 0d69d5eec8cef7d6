// Driver objects in `\Driver` and `\FileSystem`: each names its image range (DriverStart,
// DriverSize), so code of a driver that unlinked itself from PsLoadedModuleList still has an owner.

import BinaryReading

/// A DRIVER_OBJECT's view of its image.
public struct DriverObjectInfo: Sendable, Hashable {
  public var address: UInt64
  public var name: String
  public var start: UInt64
  public var size: UInt64
  public var driverInit: UInt64
}

/// Enumerates driver objects through the object manager.
public enum DriverObjectModules {
  /// Every driver object of `\Driver` and `\FileSystem` (public PDB type _DRIVER_OBJECT).
  public static func read(_ manager: ObjectManager) -> (drivers: [DriverObjectInfo], warnings: [String]) {
    let kernel = manager.kernel
    guard let startOffset = try? kernel.offset("_DRIVER_OBJECT", "DriverStart"),
      let sizeOffset = try? kernel.offset("_DRIVER_OBJECT", "DriverSize"),
      let nameOffset = try? kernel.offset("_DRIVER_OBJECT", "DriverName"),
      let initOffset = try? kernel.offset("_DRIVER_OBJECT", "DriverInit")
    else { return ([], ["_DRIVER_OBJECT layout missing from the profile"]) }
    var drivers: [DriverObjectInfo] = []
    var warnings: [String] = []
    for directory in ["\\Driver", "\\FileSystem"] {
      guard let dir = try? manager.lookup(directory) else {
        warnings.append("\(directory) not readable")
        continue
      }
      let (objects, w) = manager.entries(ofDirectory: dir.address)
      warnings += w
      for object in objects where object.typeName == nil || object.typeName == "Driver" {
        guard let start = try? kernel.readPointer(object.address &+ startOffset),
          let size = try? kernel.readUnsigned(object.address &+ sizeOffset, width: 4), start != 0, size != 0
        else { continue }
        let name =
          (try? kernel.readUnicodeString(object.address &+ nameOffset)) ?? "\(directory)\\\(object.name ?? "?")"
        let driverInit = (try? kernel.readPointer(object.address &+ initOffset)) ?? 0
        drivers.append(
          DriverObjectInfo(address: object.address, name: name, start: start, size: size, driverInit: driverInit))
      }
    }
    return (drivers, warnings)
  }

  /// Driver images as modules (origin `.driverObject`), for ranges no listed module covers.
  public static func modules(_ drivers: [DriverObjectInfo], excluding listed: [LoadedModule]) -> [LoadedModule] {
    drivers.compactMap { d in
      guard !listed.contains(where: { $0.contains(d.start) }) else { return nil }
      let short = d.name.split(separator: "\\").last.map(String.init) ?? d.name
      return LoadedModule(name: short, path: d.name, base: d.start, size: d.size, entry: 0, origin: .driverObject)
    }
  }
}
