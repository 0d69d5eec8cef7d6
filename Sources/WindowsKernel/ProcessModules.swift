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
    let list = space.recoveredList(head: ldr &+ listOffset, bound: 4096, what: "PEB.Ldr load-order")
    var warnings = list.warning.map { [$0] } ?? []
    var modules: [UserModule] = []
    for link in list.entries {
      let entry = link &- links
      do {
        let base = try space.readPointer(entry &+ dllBase)
        let size = UInt64(try space.readUInt32(entry &+ sizeOfImage))
        // A name that cannot be read stays empty, with a warning naming the member and its address.
        func string(_ member: String, _ offset: UInt64) -> String {
          do { return try Kernel.readUnicodeString(in: space, at: entry &+ offset) } catch {
            warnings.append(
              WindowsKernelError.unreadableField(
                structName: "_LDR_DATA_TABLE_ENTRY", field: member, address: entry &+ offset, reason: error.description
              ).description)
            return ""
          }
        }
        let path = string("FullDllName", fullName)
        let name = string("BaseDllName", baseName)
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

/// Offsets of the 32-bit loader structures a WOW64 process keeps below 4 GiB: the documented winternl
/// `PEB`, `PEB_LDR_DATA`, `LDR_DATA_TABLE_ENTRY` and `UNICODE_STRING` shapes laid out for 4-byte
/// pointers (the same offsets as the x86 public PDB types `_PEB`, `_PEB_LDR_DATA`,
/// `_LDR_DATA_TABLE_ENTRY`; the x64 kernel's `_PEB32` carries the PEB ones, preferred when present).
public enum Wow64LoaderLayout {
  /// PEB32.Ldr (fallback when the profile lacks `_PEB32`).
  public static let pebLdr: UInt64 = 0x0C
  /// PEB32.KernelCallbackTable (fallback when the profile lacks `_PEB32`).
  public static let pebKernelCallbackTable: UInt64 = 0x2C
  /// PEB_LDR_DATA32.InLoadOrderModuleList (LIST_ENTRY32 {Flink u32, Blink u32}).
  public static let ldrInLoadOrderModuleList: UInt64 = 0x0C
  /// LDR_DATA_TABLE_ENTRY32.InLoadOrderLinks.
  public static let entryInLoadOrderLinks: UInt64 = 0x00
  /// LDR_DATA_TABLE_ENTRY32.DllBase.
  public static let entryDllBase: UInt64 = 0x18
  /// LDR_DATA_TABLE_ENTRY32.SizeOfImage.
  public static let entrySizeOfImage: UInt64 = 0x20
  /// LDR_DATA_TABLE_ENTRY32.FullDllName (UNICODE_STRING32 {Length u16, MaximumLength u16, Buffer u32}).
  public static let entryFullDllName: UInt64 = 0x24
  /// LDR_DATA_TABLE_ENTRY32.BaseDllName.
  public static let entryBaseDllName: UInt64 = 0x2C
  /// Most entries walked in one 32-bit loader list.
  public static let maxEntries = 4096
}

extension ProcessModules {
  /// The 32-bit loader list of a WOW64 process (modules with source `ldr32`), or nothing for a native one.
  public static func wow64(_ process: Process, kernel: Kernel) throws(WindowsKernelError) -> (
    modules: [UserModule], warnings: [String]
  ) {
    guard let peb32 = wow64Peb(process, kernel: kernel) else { return ([], []) }
    let space = ProcessList.addressSpace(of: process, kernel: kernel)
    let ldrOffset = (try? kernel.offset("_PEB32", "Ldr")) ?? Wow64LoaderLayout.pebLdr
    let ldr: UInt64
    do { ldr = UInt64(try space.readUInt32(peb32 &+ ldrOffset)) } catch { throw .translation(error) }
    guard ldr != 0 else { return ([], ["PEB32.Ldr is null (32-bit loader not initialised)"]) }
    // ldr < 2^32 and the offsets are small: no overflow.
    let head = ldr &+ Wow64LoaderLayout.ldrInLoadOrderModuleList
    let walk = walkList32(space: space, head: head, bound: Wow64LoaderLayout.maxEntries)
    var warnings = walk.warning.map { ["PEB32.Ldr load-order list at \(Hex.format(head)) \($0)"] } ?? []
    var modules: [UserModule] = []
    for link in walk.entries {
      let entry = link &- Wow64LoaderLayout.entryInLoadOrderLinks  // offset 0: identity
      do {
        let base = UInt64(try space.readUInt32(entry &+ Wow64LoaderLayout.entryDllBase))
        let size = UInt64(try space.readUInt32(entry &+ Wow64LoaderLayout.entrySizeOfImage))
        func string(_ member: String, _ offset: UInt64) -> String {
          do { return try readUnicodeString32(in: space, at: entry &+ offset) } catch {
            warnings.append(
              WindowsKernelError.unreadableField(
                structName: "_LDR_DATA_TABLE_ENTRY32", field: member, address: entry &+ offset,
                reason: String(describing: error)
              ).description)
            return ""
          }
        }
        let path = string("FullDllName", Wow64LoaderLayout.entryFullDllName)
        let name = string("BaseDllName", Wow64LoaderLayout.entryBaseDllName)
        modules.append(UserModule(name: name, path: path, base: base, size: size, source: "ldr32"))
      } catch {
        warnings.append("LDR_DATA_TABLE_ENTRY32 at \(Hex.format(entry)): \(error)")
      }
    }
    return (modules, warnings)
  }

  /// PEB32.KernelCallbackTable of a WOW64 process (a 32-bit pointer; 0 when unset), nil for a native one.
  public static func wow64KernelCallbackTable(_ process: Process, kernel: Kernel) throws(WindowsKernelError)
    -> UInt64?
  {
    guard let peb32 = wow64Peb(process, kernel: kernel) else { return nil }
    let offset = (try? kernel.offset("_PEB32", "KernelCallbackTable")) ?? Wow64LoaderLayout.pebKernelCallbackTable
    let space = ProcessList.addressSpace(of: process, kernel: kernel)
    do { return UInt64(try space.readUInt32(peb32 &+ offset)) } catch { throw .translation(error) }
  }

  /// A UNICODE_STRING32 {Length u16, MaximumLength u16, Buffer u32} read as UTF-16LE.
  public static func readUnicodeString32(in space: VirtualAddressSpace, at va: UInt64) throws(WindowsKernelError)
    -> String
  {
    do {
      let length = try space.readUInt16(va)
      let maximum = try space.readUInt16(va &+ 2)  // va is a 32-bit address plus a small offset
      guard length % 2 == 0, length <= maximum else {
        throw WindowsKernelError.implausible(
          address: va, structure: "UNICODE_STRING32",
          detail: "Length \(Hex.format(UInt64(length))), MaximumLength \(Hex.format(UInt64(maximum))); "
            + "expected an even Length no larger than MaximumLength")
      }
      let buffer = UInt64(try space.readUInt32(va &+ 4))
      guard length > 0 else { return "" }
      let bytes = try space.read(buffer, count: Int(length))
      var units: [UInt16] = []
      units.reserveCapacity(bytes.count / 2)
      var i = 0
      while i + 1 < bytes.count {
        units.append(UInt16(bytes[i]) | UInt16(bytes[i + 1]) << 8)
        i += 2
      }
      return String(decoding: units, as: UTF16.self)
    } catch let error as WindowsKernelError {
      throw error
    } catch let error as TranslationError {
      throw .translation(error)
    } catch {
      throw .implausible(address: va, structure: "UNICODE_STRING32", detail: "\(error)")
    }
  }

  /// Walks a LIST_ENTRY32 {Flink u32, Blink u32} forward from `head`: addresses of the entries' links,
  /// stopping on return to the head, a repeated link (cycle), `bound` entries or an unreadable link.
  public static func walkList32(space: VirtualAddressSpace, head: UInt64, bound: Int) -> (
    entries: [UInt64], warning: String?
  ) {
    let walk = space.listEntries(head: head, bound: bound, linkWidth: 4)
    return (walk.readableEntries(linkWidth: 4), walk.isComplete ? nil : walk.stop.description)
  }
}
