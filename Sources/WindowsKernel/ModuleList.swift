// PsLoadedModuleList: the kernel's list of KLDR_DATA_TABLE_ENTRY records, one per loaded module.
// The public PDBs of Windows 7 and 8.1 do not describe _KLDR_DATA_TABLE_ENTRY; their loader entries
// are read with _LDR_DATA_TABLE_ENTRY, whose leading members (InLoadOrderLinks … BaseDllName) the
// kernel's record shares (as Volatility 3's `modules` plugin reads them on every build).

import AddressSpace
import BinaryReading

/// Reads the loaded-module list.
public enum ModuleList {
  /// Layout of `_KLDR_DATA_TABLE_ENTRY` from the profile (public PDB type), or of
  /// `_LDR_DATA_TABLE_ENTRY` when the build's profile lacks the former (Windows 7 and 8.1).
  struct Layout {
    let structName: String
    let links, dllBase, sizeOfImage, fullName, baseName: UInt64
    init(_ kernel: Kernel) throws(WindowsKernelError) {
      let name =
        kernel.profile.structSize("_KLDR_DATA_TABLE_ENTRY") == nil
          && kernel.profile.structSize("_LDR_DATA_TABLE_ENTRY") != nil
        ? "_LDR_DATA_TABLE_ENTRY" : "_KLDR_DATA_TABLE_ENTRY"
      structName = name
      links = try kernel.offset(name, "InLoadOrderLinks")
      dllBase = try kernel.offset(name, "DllBase")
      sizeOfImage = try kernel.offset(name, "SizeOfImage")
      fullName = try kernel.offset(name, "FullDllName")
      baseName = try kernel.offset(name, "BaseDllName")
    }
  }

  /// The modules in PsLoadedModuleList order; broken entries become warnings.
  public static func read(_ kernel: Kernel) throws(WindowsKernelError) -> (modules: [LoadedModule], warnings: [String])
  {
    let layout = try Layout(kernel)
    let head = try kernel.address(of: "PsLoadedModuleList")
    let list = kernel.space.recoveredList(head: head, bound: 4096, what: "PsLoadedModuleList")
    var warnings = list.warning.map { [$0] } ?? []
    var modules: [LoadedModule] = []
    for link in list.entries {
      let entry = link &- layout.links  // links lies inside the entry, so entry ≤ link
      do {
        modules.append(
          try module(at: entry, layout: layout, kernel: kernel, origin: .loadedModuleList, warnings: &warnings))
      } catch {
        warnings.append("module entry at \(Hex.format(entry)): \(error)")
      }
    }
    return (modules, warnings)
  }

  /// Decodes one KLDR_DATA_TABLE_ENTRY.
  static func module(
    at entry: UInt64, layout: Layout, kernel: Kernel, origin: ModuleOrigin, warnings: inout [String]
  ) throws(WindowsKernelError) -> LoadedModule {
    let base = try kernel.readPointer(entry &+ layout.dllBase)
    let size = try kernel.readUnsigned(entry &+ layout.sizeOfImage, width: 4)
    guard kernel.isKernelAddress(base), size > 0, size < 0x1000_0000 else {
      throw .implausible(
        address: entry, structure: layout.structName,
        detail: "DllBase \(Hex.format(base)), SizeOfImage \(Hex.format(size))")
    }
    var path = ""
    var name = ""
    do { path = try kernel.readUnicodeString(entry &+ layout.fullName) } catch {
      warnings.append("module entry at \(Hex.format(entry)) (DllBase \(Hex.format(base))): FullDllName: \(error)")
    }
    do { name = try kernel.readUnicodeString(entry &+ layout.baseName) } catch {
      warnings.append("module entry at \(Hex.format(entry)) (DllBase \(Hex.format(base))): BaseDllName: \(error)")
    }
    if name.isEmpty { name = path.split(separator: "\\").last.map(String.init) ?? "" }
    return LoadedModule(name: name, path: path, base: base, size: size, entry: entry, origin: origin)
  }
}
