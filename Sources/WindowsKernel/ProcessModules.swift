// The modules of a process from its PEB: PEB.Ldr → PEB_LDR_DATA.InLoadOrderModuleList of
// LDR_DATA_TABLE_ENTRY, read in the process's own address space (public PDB types). WOW64
// processes also have a 32-bit PEB whose list uses the 32-bit layouts (documented winternl
// PEB_LDR_DATA / LDR_DATA_TABLE_ENTRY shapes, laid out for 4-byte pointers).

import AddressSpace
import BinaryReading
import MemoryImage

/// Reads the PEB loader list of a process.
public enum ProcessModules {
  /// The 64-bit (native) loader list of `process`.
  public static func native(_ process: Process, kernel: Kernel) throws(WindowsKernelError) -> (
    modules: [UserModule], warnings: [String]
  ) {
    guard process.peb != 0 else { return ([], []) }
    let space = ProcessList.addressSpace(of: process, kernel: kernel)
    let ldrOffset = try kernel.offset("_PEB", "Ldr")
    let listOffset = try kernel.offset("_PEB_LDR_DATA", "InLoadOrderModuleList")
    let links = try kernel.offset("_LDR_DATA_TABLE_ENTRY", "InLoadOrderLinks")
    let dllBase = try kernel.offset("_LDR_DATA_TABLE_ENTRY", "DllBase")
    let sizeOfImage = try kernel.offset("_LDR_DATA_TABLE_ENTRY", "SizeOfImage")
    let fullName = try kernel.offset("_LDR_DATA_TABLE_ENTRY", "FullDllName")
    let baseName = try kernel.offset("_LDR_DATA_TABLE_ENTRY", "BaseDllName")
    let ldr: UInt64
    do { ldr = try space.readPointer(process.peb &+ ldrOffset) } catch { throw .translation(error) }
    guard ldr != 0 else { return ([], ["PEB.Ldr is null (loader not initialised)"]) }
    let list = RobustListWalk.entries(space: space, head: ldr &+ listOffset, bound: 4096, what: "PEB.Ldr load-order")
    var warnings = list.warning.map { [$0] } ?? []
    var modules: [UserModule] = []
    for link in list.entries {
      let entry = link &- links
      do {
        let base = try space.readPointer(entry &+ dllBase)
        let size = UInt64(try space.readUInt32(entry &+ sizeOfImage))
        let path = (try? Kernel.readUnicodeString(in: space, at: entry &+ fullName)) ?? ""
        let name = (try? Kernel.readUnicodeString(in: space, at: entry &+ baseName)) ?? ""
        modules.append(UserModule(name: name, path: path, base: base, size: size, source: "ldr"))
      } catch {
        warnings.append("LDR entry at \(Hex.format(entry)): \(error)")
      }
    }
    return (modules, warnings)
  }

  /// The 32-bit PEB of a WOW64 process (EPROCESS.WoW64Process → EWOW64PROCESS.Peb on Windows 10;
  /// a direct PEB32 pointer before), or nil for native processes.
  public static func wow64Peb(_ process: Process, kernel: Kernel) -> UInt64? {
    let field = (try? kernel.offset("_EPROCESS", "WoW64Process")) ?? (try? kernel.offset("_EPROCESS", "Wow64Process"))
    guard kernel.pointerSize == 8, let field,
      let wow = try? kernel.readPointer(process.eprocess &+ field), wow != 0
    else { return nil }
    if let pebOffset = try? kernel.offset("_EWOW64PROCESS", "Peb") {
      return (try? kernel.readPointer(wow &+ pebOffset)).flatMap { $0 == 0 ? nil : $0 }
    }
    return wow
  }
}
