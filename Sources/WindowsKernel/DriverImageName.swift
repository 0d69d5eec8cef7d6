// The file name of a driver's image, from its loader entry: DRIVER_OBJECT.DriverSection points to
// the driver's KLDR_DATA_TABLE_ENTRY, whose BaseDllName (`evil.sys`) and FullDllName are what the
// loader list, Volatility 3 and WinDbg call the module. DriverName (`\Driver\evil`) names the
// object, not the file, and is only the fallback when the loader entry cannot be read.

import BinaryReading

/// The image name of one driver object, and where it came from.
public struct DriverImageName: Sendable, Hashable {
  /// Where a driver's module name was read.
  public enum Source: String, Sendable {
    /// `DriverSection` → loader entry `BaseDllName` / `FullDllName`.
    case loaderEntry = "loader-entry"
    /// `_DRIVER_OBJECT.DriverName` (the loader entry was unreadable or did not match).
    case driverName = "driver-name"
  }

  /// File name, e.g. `evil.sys`.
  public var name: String
  /// Full path (the loader's FullDllName), or the DriverName when that is the source.
  public var path: String
  public var source: Source

  /// Reads the loader entry `DriverSection` points to and checks it describes the driver's image
  /// (its DllBase is DriverStart). Returns the reason when it cannot be used.
  public static func fromLoaderEntry(_ kernel: Kernel, section: UInt64, driverStart: UInt64) throws(WindowsKernelError)
    -> DriverImageName
  {
    let layout = try ModuleList.Layout(kernel)
    guard section != 0, kernel.isKernelAddress(section) else {
      throw .implausible(
        address: section, structure: "_DRIVER_OBJECT.DriverSection", detail: "not a kernel address")
    }
    let base = try kernel.readPointer(section &+ layout.dllBase)
    guard base == driverStart else {
      throw .implausible(
        address: section, structure: "\(layout.structName).DllBase",
        detail: "\(Hex.format(base)) is not the driver's DriverStart \(Hex.format(driverStart))")
    }
    // FullDllName is only the path: an unreadable one leaves the file name as the path.
    var path = ""
    do { path = try kernel.readUnicodeString(section &+ layout.fullName) } catch {}
    var name = try kernel.readUnicodeString(section &+ layout.baseName)
    if name.isEmpty { name = path.split(separator: "\\").last.map(String.init) ?? "" }
    guard !name.isEmpty, !name.contains("\\") else {
      throw .implausible(
        address: section &+ layout.baseName, structure: "\(layout.structName).BaseDllName",
        detail: "empty or not a file name: \"\(name)\"")
    }
    return DriverImageName(name: name, path: path.isEmpty ? name : path, source: .loaderEntry)
  }

  /// The fallback: the last component of DriverName (`\Driver\evil` → `evil`).
  public static func fromDriverName(_ driverName: String) -> DriverImageName {
    let short = driverName.split(separator: "\\").last.map(String.init) ?? driverName
    return DriverImageName(name: short, path: driverName, source: .driverName)
  }
}
