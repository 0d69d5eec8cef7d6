// A kernel module (driver or the kernel itself) as the loader records it.

/// How a module was found.
public enum ModuleOrigin: String, Sendable, Codable {
  /// Linked in PsLoadedModuleList.
  case loadedModuleList = "list"
  /// Found only by carving `MmLd` pool blocks (unlinked from the list).
  case carved
  /// Known only from a DRIVER_OBJECT's DriverStart/DriverSize.
  case driverObject = "driver-object"
}

/// One loaded kernel module.
public struct LoadedModule: Sendable, Hashable {
  /// Base name, e.g. `ntoskrnl.exe`.
  public var name: String
  /// Full path as the loader stored it, e.g. `\SystemRoot\system32\ntoskrnl.exe`.
  public var path: String
  public var base: UInt64
  public var size: UInt64
  /// Address of the KLDR_DATA_TABLE_ENTRY (0 when not known).
  public var entry: UInt64
  public var origin: ModuleOrigin

  public init(name: String, path: String, base: UInt64, size: UInt64, entry: UInt64, origin: ModuleOrigin) {
    self.name = name
    self.path = path
    self.base = base
    self.size = size
    self.entry = entry
    self.origin = origin
  }

  /// Half-open containment: base ≤ a < base + size.
  public func contains(_ address: UInt64) -> Bool { address >= base && address - base < size }
}
