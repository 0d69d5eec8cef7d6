// The shadow-ssdt family: win32k's system service table, the routine behind every NtUser*/NtGdi*
// system call (service numbers 0x1000 and up). KeServiceDescriptorTableShadow[1] is its
// KSERVICE_TABLE_DESCRIPTOR (WRK ke.h); Base is win32k's W32pServiceTable, which lives in session
// space: it is mapped only in processes of a session, so the table is read through the address
// space of a GUI process (EPROCESS.Win32Process set). Entries decode as the kernel's (x64: base +
// (int32 >> 4)). Services are named by number from the process's win32u.dll (user32/gdi32 before
// Windows 10) exports: each NtUser*/NtGdi* stub loads its number into eax. Every routine belongs
// in win32k's images (on Windows 10 and 11 win32k.sys stubs that forward to win32kbase/win32kfull).

import AddressSpace
import BinaryReading
import PortableExecutable
import Symbols
import WindowsKernel

extension FamilyDescriptor {
  /// W32pServiceTable through KeServiceDescriptorTableShadow[1], read in a GUI process.
  public static let shadowServiceTable = FamilyDescriptor(
    id: "shadow-ssdt", title: "Win32k system service table (W32pServiceTable, in session space)",
    registration: "W32pServiceTable is built into win32k (KeAddSystemServiceTable; hooks overwrite its entries)",
    heads: [FamilyHead("KeServiceDescriptorTableShadow", .symbolOnly)],
    structs: ["_EPROCESS"],
    listing: .deviations,
    reader: ShadowServiceTableReader())
}

/// Reads KeServiceDescriptorTableShadow[1] in a GUI process.
public struct ShadowServiceTableReader: CallbackFamily {
  public var ids: [String] { ["shadow-ssdt"] }
  public init() {}

  /// Win32k's images: where its services belong.
  public static let win32kImages = ["win32k.sys", "win32kbase.sys", "win32kfull.sys"]
  /// Win32k service numbers start here (the table index is the number's low 12 bits).
  static let firstNumber = 0x1000

  public func collect(_ c: CallbackContext) -> [FamilyResult] {
    let id = "shadow-ssdt"
    let head: (address: UInt64, provenance: Provenance)
    let modules: [LoadedModule]
    let processes: [WindowsKernel.Process]
    let win32Process: UInt64
    do throws(WindowsKernelError) {
      head = try c.head("KeServiceDescriptorTableShadow")
      win32Process = try c.offset("_EPROCESS", "Win32Process")
      modules = try ModuleList.read(c.kernel).modules
      processes = try ProcessList.read(c.kernel).processes
    } catch {
      return [FamilyResult(family: id, notLocated: error.description)]
    }
    let images = modules.filter { Self.win32kImages.contains($0.name.lowercased()) }
    guard let win32k = images.first(where: { $0.name.lowercased() == "win32k.sys" }) ?? images.first else {
      return [FamilyResult(family: id, notLocated: "win32k.sys is not in PsLoadedModuleList")]
    }
    // The first process of a session with Win32 state maps win32k's session space.
    var gui: [WindowsKernel.Process] = []
    var unreadable: [String] = []
    for p in processes {
      guard let state = c.pointer(p.eprocess &+ win32Process) else {
        unreadable.append("\(p.name) (EPROCESS.Win32Process at \(Hex.format(p.eprocess &+ win32Process)))")
        continue
      }
      if state != 0 { gui.append(p) }
    }
    guard !gui.isEmpty else {
      let reason = "no process has EPROCESS.Win32Process set: win32k's session space is mapped in none"
      return [
        FamilyResult(
          family: id,
          notLocated: reason + (unreadable.isEmpty ? "" : "; unreadable in " + unreadable.joined(separator: ", ")))
      ]
    }
    var failures: [String] = []
    for process in gui.prefix(4) {
      let space = ProcessList.addressSpace(of: process, kernel: c.kernel)
      do throws(WindowsKernelError) {
        let table = try Table(c, space: space, head: head.address, win32k: win32k)
        return [rows(c, table, process: process, space: space, head: head)]
      } catch {
        failures.append("\(process.name) (pid \(process.pid)): \(error)")
      }
    }
    return [
      FamilyResult(family: id, notLocated: "win32k's service table not read: " + failures.joined(separator: "; "))
    ]
  }

  private func rows(
    _ c: CallbackContext, _ table: Table, process: WindowsKernel.Process, space: VirtualAddressSpace,
    head: (address: UInt64, provenance: Provenance)
  ) -> FamilyResult {
    var result = FamilyResult(family: "shadow-ssdt")
    let (names, warning) = Self.serviceNames(c, process: process, space: space)
    if let warning { result.warnings.append("shadow-ssdt: \(warning)") }
    for (index, entry) in table.entries.enumerated() {
      let number = Self.firstNumber + index
      var details: [(String, DetailValue)] = [
        ("service", names[number].map(DetailValue.string) ?? .null), ("number", .int(Int64(number))),
        ("stackArguments", .int(entry.arguments)), ("readInProcess", .string("\(process.name) (\(process.pid))")),
      ]
      if names[number] != nil { details.append(("nameFrom", .string("win32u-stub"))) }
      var row = CallbackEntry(
        family: "shadow-ssdt", head: table.descriptor, headSymbol: "KeServiceDescriptorTableShadow[1]", index: number,
        rawValue: entry.raw, routine: entry.routine, details: details, provenance: head.provenance)
      row.expectedOwners = Self.win32kImages
      result.entries.append(row)
    }
    return result
  }

  /// win32k's descriptor and decoded entries, read in one process's address space.
  struct Table {
    let descriptor: UInt64
    let entries: [(raw: UInt64, routine: UInt64, arguments: Int64)]

    init(_ c: CallbackContext, space: VirtualAddressSpace, head: UInt64, win32k: LoadedModule)
      throws(WindowsKernelError)
    {
      guard c.pointerSize == 8 else {
        throw .implausible(
          address: head, structure: "KeServiceDescriptorTableShadow", detail: "x86 shadow tables are not read")
      }
      let layout = c.layouts.serviceTableDescriptor
      descriptor = head &+ UInt64(layout.size)  // [1]: win32k's
      let base: UInt64
      let limit: UInt64
      do {
        base = try space.readPointer(descriptor &+ (try layout["Base"]))
        limit = UInt64(try space.readUInt32(descriptor &+ (try layout["Limit"])))
      } catch let error as WindowsKernelError {
        throw error
      } catch {
        throw .unreadableField(
          structName: "KSERVICE_TABLE_DESCRIPTOR", field: "Base/Limit", address: descriptor, reason: "\(error)")
      }
      guard base != 0 else {
        throw .implausible(
          address: descriptor, structure: "KeServiceDescriptorTableShadow[1].Base",
          detail: "null: win32k never added its table")
      }
      guard win32k.contains(base) else {
        throw .implausible(
          address: descriptor, structure: "KeServiceDescriptorTableShadow[1].Base",
          detail: "\(Hex.format(base)) is not inside \(win32k.name)")
      }
      guard limit > 0, limit <= ServiceTableReader.maximumServices else {
        throw .implausible(
          address: descriptor, structure: "KeServiceDescriptorTableShadow[1].Limit",
          detail: "\(limit) services is not a service table")
      }
      let bytes: [UInt8]
      do { bytes = try space.read(base, count: Int(limit) * 4) } catch {
        throw .unreadableField(
          structName: "W32pServiceTable", field: "[0..<\(limit)]", address: base, reason: "\(error)")
      }
      var decoded: [(raw: UInt64, routine: UInt64, arguments: Int64)] = []
      var inside = 0
      for raw in ByteCursor(bytes).words(width: 4) {
        let offset = Int64(Int32(bitPattern: UInt32(truncatingIfNeeded: raw)) >> 4)
        let routine = base &+ UInt64(bitPattern: offset)
        if win32k.contains(routine) { inside += 1 }
        decoded.append((raw, routine, Int64(raw & 0xF)))
      }
      // As for the kernel's table: most entries stay in win32k, or it is not the table.
      guard inside * 2 > decoded.count else {
        throw .implausible(
          address: base, structure: "W32pServiceTable",
          detail: "only \(inside) of \(limit) entries decode into \(win32k.name)")
      }
      entries = decoded
    }
  }

  /// Service number → NtUser*/NtGdi* name from the stubs the process's win32u.dll (or, before
  /// Windows 10, user32.dll and gdi32.dll) exports; a warning when no such module is readable.
  static func serviceNames(
    _ c: CallbackContext, process: WindowsKernel.Process, space: VirtualAddressSpace
  ) -> (names: [Int: String], warning: String?) {
    let modules: [UserModule]
    do { modules = try ProcessModules.native(process, kernel: c.kernel).modules } catch {
      return ([:], "\(process.name): loader list unreadable (\(error)); services unnamed")
    }
    let stubs = modules.filter { ["win32u.dll", "user32.dll", "gdi32.dll"].contains($0.name.lowercased()) }
    guard !stubs.isEmpty else {
      return ([:], "\(process.name) has no win32u.dll, user32.dll or gdi32.dll; services unnamed")
    }
    var names: [Int: String] = [:]
    var unreadable: [String] = []
    for module in stubs {
      let source = VirtualByteSource(space: space, base: module.base, size: module.size, name: module.name)
      let exports: PEExports
      do { exports = try PEImage(source: source, layout: .mapped).exports() } catch {
        unreadable.append("\(module.name) exports unreadable (\(error))")
        continue
      }
      for entry in exports.entries where !entry.isForwarder {
        guard let name = entry.name, name.hasPrefix("NtUser") || name.hasPrefix("NtGdi") || name.hasPrefix("NtDx"),
          let code = try? space.read(module.base &+ UInt64(entry.rva), count: 32),
          let number = win32kServiceNumber(code), names[number] == nil
        else { continue }
        names[number] = name
      }
    }
    return (
      names,
      unreadable.isEmpty ? nil : "\(process.name): " + unreadable.joined(separator: "; ") + "; their services unnamed"
    )
  }

  /// The number an x64 user-mode stub loads before `syscall`: `mov eax, imm32` (b8 imm32) within
  /// its first bytes, a win32k number (0x1000–0x1FFF).
  static func win32kServiceNumber(_ code: [UInt8]) -> Int? {
    var at = 0
    while at + 5 <= code.count {
      if code[at] == 0xB8 {
        let value = Int(code[at + 1]) | Int(code[at + 2]) << 8 | Int(code[at + 3]) << 16 | Int(code[at + 4]) << 24
        return (0x1000...0x1FFF).contains(value) ? value : nil
      }
      at += 1
    }
    return nil
  }
}
