// PsActiveProcessHead: EPROCESS.ActiveProcessLinks chained through every live process.

import AddressSpace
import BinaryReading
import MemoryImage

/// Reads the active process list.
public enum ProcessList {
  /// `_EPROCESS` / `_KPROCESS` member offsets from the profile.
  struct Layout {
    let links, pid, ppid, imageFileName, peb, dtb, createTime, exitTime: UInt64
    init(_ kernel: Kernel) throws(WindowsKernelError) {
      links = try kernel.offset("_EPROCESS", "ActiveProcessLinks")
      pid = try kernel.offset("_EPROCESS", "UniqueProcessId")
      ppid = try kernel.offset("_EPROCESS", "InheritedFromUniqueProcessId")
      imageFileName = try kernel.offset("_EPROCESS", "ImageFileName")
      peb = try kernel.offset("_EPROCESS", "Peb")
      dtb = try kernel.offset("_EPROCESS", "Pcb") &+ (try kernel.offset("_KPROCESS", "DirectoryTableBase"))
      createTime = try kernel.offset("_EPROCESS", "CreateTime")
      exitTime = try kernel.offset("_EPROCESS", "ExitTime")
    }
  }

  /// Processes in list order; broken entries become warnings.
  public static func read(_ kernel: Kernel) throws(WindowsKernelError) -> (processes: [Process], warnings: [String]) {
    let layout = try Layout(kernel)
    let head = try kernel.address(of: "PsActiveProcessHead")
    let list = RobustListWalk.entries(space: kernel.space, head: head, bound: 65_536, what: "PsActiveProcessHead")
    var warnings = list.warning.map { [$0] } ?? []
    var processes: [Process] = []
    for link in list.entries {
      let eprocess = link &- layout.links  // the links field lies inside the EPROCESS
      do {
        processes.append(try process(at: eprocess, layout: layout, kernel: kernel))
      } catch {
        warnings.append("EPROCESS at \(Hex.format(eprocess)): \(error)")
      }
    }
    return (processes, warnings)
  }

  static func process(at eprocess: UInt64, layout: Layout, kernel: Kernel) throws(WindowsKernelError) -> Process {
    let pid = try kernel.readPointer(eprocess &+ layout.pid)
    let ppid = try kernel.readPointer(eprocess &+ layout.ppid)
    let nameBytes = try kernel.read(eprocess &+ layout.imageFileName, count: 15)
    let name = String(decoding: nameBytes.prefix { $0 != 0 }, as: UTF8.self)
    let dtb = try kernel.readUnsigned(eprocess &+ layout.dtb, width: kernel.pointerSize)
    let peb = (try? kernel.readPointer(eprocess &+ layout.peb)) ?? 0
    let create = (try? kernel.readUnsigned(eprocess &+ layout.createTime, width: 8)) ?? 0
    let exit = (try? kernel.readUnsigned(eprocess &+ layout.exitTime, width: 8)) ?? 0
    guard pid < 0x1_0000_0000, pid % 4 == 0 else {
      throw .implausible(address: eprocess, structure: "_EPROCESS", detail: "UniqueProcessId \(Hex.format(pid))")
    }
    return Process(
      pid: pid, ppid: ppid, name: name, eprocess: eprocess, dtb: dtb, peb: peb, createTime: create, exitTime: exit)
  }

  /// The address space of a process (its own DTB; the kernel half is shared).
  public static func addressSpace(of process: Process, kernel: Kernel) -> VirtualAddressSpace {
    let mask: UInt64 = kernel.space.mode == .x86PAE ? 0xffff_ffe0 : 0x000f_ffff_ffff_f000
    return VirtualAddressSpace(memory: kernel.space.memory, dtb: process.dtb & mask, mode: kernel.space.mode)
  }
}
