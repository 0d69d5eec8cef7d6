// The irp-dispatch family: the routines every driver object hands the I/O manager — its 28
// MajorFunction slots, DriverStartIo, DriverUnload, DriverExtension.AddDevice and the routines of
// its FAST_IO_DISPATCH table. Rootkits and EDR-blinding tools swap these to filter or swallow IRPs.
// A slot belongs in the driver's own image; the exceptions by design are nt!IopInvalidDeviceRequest
// (the default the I/O manager fills every unset slot with) and the port and class drivers whose
// miniports leave dispatch to them (storport, classpnp, ndis, Wdf01000 …). Slots holding
// IopInvalidDeviceRequest are not rows: a real system has thousands. All layouts are public PDB types.

import BinaryReading
import Symbols
import WindowsKernel

extension FamilyDescriptor {
  /// Every \Driver and \FileSystem driver object's dispatch routines.
  public static let irpDispatch = FamilyDescriptor(
    id: "irp-dispatch", title: "Driver dispatch routines (MajorFunction, StartIo, Unload, AddDevice, FastIo)",
    registration: "the driver's DriverEntry fills its DRIVER_OBJECT (hooks overwrite the slots)",
    heads: [FamilyHead("ObpRootDirectoryObject", .kernelModel)],
    symbols: ["IopInvalidDeviceRequest"],
    structs: ["_DRIVER_OBJECT", "_DRIVER_EXTENSION", "_FAST_IO_DISPATCH"],
    listing: .deviations,
    reader: IrpDispatchReader())
}

/// Reads the dispatch routines of every driver object in the object directory.
public struct IrpDispatchReader: CallbackFamily {
  public var ids: [String] { ["irp-dispatch"] }
  public init() {}

  /// IRP_MJ_* names by MajorFunction index (wdm.h).
  public static let majorFunctionNames = [
    "IRP_MJ_CREATE", "IRP_MJ_CREATE_NAMED_PIPE", "IRP_MJ_CLOSE", "IRP_MJ_READ", "IRP_MJ_WRITE",
    "IRP_MJ_QUERY_INFORMATION", "IRP_MJ_SET_INFORMATION", "IRP_MJ_QUERY_EA", "IRP_MJ_SET_EA",
    "IRP_MJ_FLUSH_BUFFERS", "IRP_MJ_QUERY_VOLUME_INFORMATION", "IRP_MJ_SET_VOLUME_INFORMATION",
    "IRP_MJ_DIRECTORY_CONTROL", "IRP_MJ_FILE_SYSTEM_CONTROL", "IRP_MJ_DEVICE_CONTROL",
    "IRP_MJ_INTERNAL_DEVICE_CONTROL", "IRP_MJ_SHUTDOWN", "IRP_MJ_LOCK_CONTROL", "IRP_MJ_CLEANUP",
    "IRP_MJ_CREATE_MAILSLOT", "IRP_MJ_QUERY_SECURITY", "IRP_MJ_SET_SECURITY", "IRP_MJ_POWER",
    "IRP_MJ_SYSTEM_CONTROL", "IRP_MJ_DEVICE_CHANGE", "IRP_MJ_QUERY_QUOTA", "IRP_MJ_SET_QUOTA", "IRP_MJ_PNP",
  ]

  /// Port, class and framework drivers whose code legitimately serves other drivers' slots: a
  /// miniport's DRIVER_OBJECT points into them by design (each is the documented model of its class).
  public static let dispatchProviders: [String: String] = [
    "storport.sys": "Storport miniports", "scsiport.sys": "SCSI miniports", "ataport.sys": "ATA miniports",
    "classpnp.sys": "storage class drivers", "ndis.sys": "NDIS miniports and filters",
    "wdf01000.sys": "KMDF drivers", "portcls.sys": "audio miniports", "ks.sys": "kernel-streaming minidrivers",
    "videoprt.sys": "XDDM video miniports", "dxgkrnl.sys": "display miniports", "hidclass.sys": "HID minidrivers",
    "usbport.sys": "USB host controller miniports", "ucx01000.sys": "USB host controller extensions",
    "tdi.sys": "TDI clients", "pciidex.sys": "IDE controller minidrivers", "battc.sys": "battery miniclasses",
    "wmilib.sys": "WMI system-control helpers", "msgpioclx.sys": "GPIO controller drivers",
    "spbcx.sys": "SPB controller drivers", "sercx2.sys": "serial controller drivers",
  ]

  /// File names the kernel's own module goes by in PsLoadedModuleList.
  public static let kernelImageNames = ["ntoskrnl.exe", "ntkrnlmp.exe", "ntkrnlpa.exe", "ntkrpamp.exe"]

  /// Driver objects read at most per directory (a smeared directory cannot run away).
  static let bound = 4096

  public func collect(_ c: CallbackContext) -> [FamilyResult] {
    let id = "irp-dispatch"
    guard let manager = c.objects else {
      return [FamilyResult(family: id, notLocated: "object manager not readable: \(c.objectsError ?? "not opened")")]
    }
    let layout: Layout
    do throws(WindowsKernelError) { layout = try Layout(c) } catch {
      return [FamilyResult(family: id, notLocated: error.description)]
    }
    var result = FamilyResult(family: id)
    let provenance = c.kernel.profile.symbol("ObpRootDirectoryObject")?.provenance ?? .pdb
    let (listed, unreadable, warnings) = DriverObjectModules.driverObjects(manager, bound: Self.bound)
    let drivers = listed.map(\.object)
    result.warnings += warnings
    guard !drivers.isEmpty || unreadable.isEmpty else {
      return [FamilyResult(family: id, notLocated: "no driver object readable: " + unreadable.joined(separator: "; "))]
    }
    result.warnings += unreadable.map { "irp-dispatch: " + $0 }
    let invalidRequest = Self.invalidDeviceRequest(c, drivers: drivers, layout)
    for (driver, directory) in listed {
      read(driver, in: directory, c, layout, invalidRequest: invalidRequest, provenance: provenance, into: &result)
    }
    return [result]
  }

  /// Member offsets, all from the profile.
  struct Layout {
    let majorFunction, startIo, unload, extensionPointer, driverStart, driverSize, name, fastIo, section: UInt64
    let addDevice: UInt64
    /// FAST_IO_DISPATCH routine members (every member after SizeOfFastIoDispatch), by offset.
    let fastIoRoutines: [(name: String, offset: UInt64)]

    init(_ c: CallbackContext) throws(WindowsKernelError) {
      majorFunction = try c.offset("_DRIVER_OBJECT", "MajorFunction")
      startIo = try c.offset("_DRIVER_OBJECT", "DriverStartIo")
      unload = try c.offset("_DRIVER_OBJECT", "DriverUnload")
      extensionPointer = try c.offset("_DRIVER_OBJECT", "DriverExtension")
      driverStart = try c.offset("_DRIVER_OBJECT", "DriverStart")
      driverSize = try c.offset("_DRIVER_OBJECT", "DriverSize")
      name = try c.offset("_DRIVER_OBJECT", "DriverName")
      fastIo = try c.offset("_DRIVER_OBJECT", "FastIoDispatch")
      section = try c.offset("_DRIVER_OBJECT", "DriverSection")
      addDevice = try c.offset("_DRIVER_EXTENSION", "AddDevice")
      guard let fields = c.profile.fields(of: "_FAST_IO_DISPATCH") else {
        throw .missingField(structName: "_FAST_IO_DISPATCH", field: "FastIoCheckIfPossible")
      }
      fastIoRoutines = fields.filter { $0.key != "SizeOfFastIoDispatch" && $0.value.offset > 0 }
        .map { (name: $0.key, offset: UInt64($0.value.offset)) }.sorted { $0.offset < $1.offset }
    }
  }

  /// nt!IopInvalidDeviceRequest: from the profile, else the MajorFunction value inside ntoskrnl that
  /// fills the most slots, when it is in more than half of the drivers (every driver leaves some
  /// slots unset, and the I/O manager fills them all with this one routine).
  static func invalidDeviceRequest(_ c: CallbackContext, drivers: [KernelObject], _ l: Layout) -> UInt64? {
    if let address = try? c.kernel.address(of: "IopInvalidDeviceRequest") { return address }
    var drivesUsing: [UInt64: Int] = [:]
    for driver in drivers {
      var values = Set<UInt64>()
      for index in 0..<majorFunctionNames.count {
        guard let value = c.pointer(driver.address &+ l.majorFunction &+ UInt64(index) &* c.pointerSize),
          c.kernel.image.contains(value)
        else { continue }
        values.insert(value)
      }
      for value in values { drivesUsing[value, default: 0] += 1 }
    }
    guard let best = drivesUsing.max(by: { $0.value < $1.value }), best.value * 2 > drivers.count else { return nil }
    return best.key
  }

  /// The rows of one driver object.
  private func read(
    _ driver: KernelObject, in directory: String, _ c: CallbackContext, _ l: Layout, invalidRequest: UInt64?,
    provenance: Provenance, into result: inout FamilyResult
  ) {
    let at = driver.address
    let name: String
    do { name = try c.kernel.readUnicodeString(at &+ l.name) } catch {
      name = "\(directory)\\\(driver.name ?? Hex.format(at))"
      result.warnings.append(
        "irp-dispatch: _DRIVER_OBJECT.DriverName at \(Hex.format(at &+ l.name)): \(error); named \(name) from the directory"
      )
    }
    let expected: [String]
    do {
      let start = try c.kernel.readPointer(at &+ l.driverStart)
      let size = try c.kernel.readUnsigned(at &+ l.driverSize, width: 4)
      expected = expectedOwners(c, driver: at, l, driverStart: start, driverSize: size, name: name)
    } catch {
      // Without its image range the driver's own image is unknown: its slots are judged by no owner.
      expected = []
      result.warnings.append(
        "irp-dispatch: \(name): _DRIVER_OBJECT.DriverStart/DriverSize unreadable (\(error)); slots not checked for an owner"
      )
    }
    var slots: [(routine: UInt64, index: Int?, slot: String, extra: [(String, DetailValue)])] = []
    for (index, slot) in Self.majorFunctionNames.enumerated() {
      let field = at &+ l.majorFunction &+ UInt64(index) &* c.pointerSize
      guard let routine = c.pointer(field) else {
        result.warnings.append("\(name): _DRIVER_OBJECT.MajorFunction[\(index)] at \(Hex.format(field)) unreadable")
        continue
      }
      slots.append((routine, index, slot, []))
    }
    for (slot, offset) in [("DriverStartIo", l.startIo), ("DriverUnload", l.unload)] {
      guard let routine = c.pointer(at &+ offset) else {
        result.warnings.append("\(name): _DRIVER_OBJECT.\(slot) at \(Hex.format(at &+ offset)) unreadable")
        continue
      }
      slots.append((routine, nil, slot, []))
    }
    if let extensionAddress = c.pointer(at &+ l.extensionPointer), extensionAddress != 0 {
      if let routine = c.pointer(extensionAddress &+ l.addDevice) {
        slots.append((routine, nil, "AddDevice", [("driverExtension", .address(extensionAddress))]))
      } else {
        result.warnings.append(
          "\(name): _DRIVER_EXTENSION.AddDevice at \(Hex.format(extensionAddress &+ l.addDevice)) unreadable")
      }
    }
    slots += fastIo(at, name: name, c, l, warnings: &result.warnings)
    for (routine, index, slot, extra) in slots where routine != 0 && routine != invalidRequest {
      var entry = CallbackEntry(
        family: "irp-dispatch", head: at, headSymbol: name, index: index, routine: routine, object: at,
        details: [("driverObject", .address(at)), ("driverName", .string(name)), ("slot", .string(slot))] + extra,
        provenance: provenance)
      entry.expectedOwners = expected
      result.entries.append(entry)
    }
  }

  /// The routines of the driver's FAST_IO_DISPATCH, as far as its SizeOfFastIoDispatch reaches.
  private func fastIo(
    _ driver: UInt64, name: String, _ c: CallbackContext, _ l: Layout, warnings: inout [String]
  ) -> [(routine: UInt64, index: Int?, slot: String, extra: [(String, DetailValue)])] {
    guard let table = c.pointer(driver &+ l.fastIo), table != 0 else { return [] }
    guard let declared = try? c.kernel.readUnsigned(table, width: 4) else {
      warnings.append("\(name): _FAST_IO_DISPATCH at \(Hex.format(table)) unreadable")
      return []
    }
    var slots: [(routine: UInt64, index: Int?, slot: String, extra: [(String, DetailValue)])] = []
    for (member, offset) in l.fastIoRoutines where offset &+ c.pointerSize <= declared {
      guard let routine = c.pointer(table &+ offset) else {
        warnings.append("\(name): _FAST_IO_DISPATCH.\(member) at \(Hex.format(table &+ offset)) unreadable")
        continue
      }
      slots.append((routine, nil, member, [("fastIoDispatch", .address(table))]))
    }
    return slots
  }

  /// The images a driver's slots belong in: its own (named as the owner resolver names it: the
  /// loader entry's BaseDllName, else from DriverName), the kernel's for drivers the kernel
  /// implements (no image of their own, or one inside ntoskrnl), and the dispatch providers.
  private func expectedOwners(
    _ c: CallbackContext, driver: UInt64, _ l: Layout, driverStart: UInt64, driverSize: UInt64, name: String
  ) -> [String] {
    let owners = Array(Self.dispatchProviders.keys).sorted()
    guard driverStart != 0, driverSize != 0, !c.kernel.image.contains(driverStart) else {
      return Self.kernelImageNames + owners
    }
    if let section = c.pointer(driver &+ l.section),
      let image = try? DriverImageName.fromLoaderEntry(c.kernel, section: section, driverStart: driverStart)
    {
      return [image.name.lowercased()] + owners
    }
    // DriverName gives `disk` for disk.sys: either spelling is the driver's own.
    let short = DriverImageName.fromDriverName(name).name.lowercased()
    return [short, short + ".sys"] + owners
  }
}
