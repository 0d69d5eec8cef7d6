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
    let list = kernel.space.recoveredList(head: head, bound: 65_536, what: "PsActiveProcessHead")
    var warnings = list.warning.map { [$0] } ?? []
    var processes: [Process] = []
    for link in list.entries {
      let eprocess = link &- layout.links  // the links field lies inside the EPROCESS
      do {
        var fieldWarnings: [String] = []
        processes.append(try process(at: eprocess, layout: layout, kernel: kernel, warnings: &fieldWarnings))
        warnings += fieldWarnings.map { "EPROCESS at \(Hex.format(eprocess)): \($0)" }
      } catch {
        warnings.append("EPROCESS at \(Hex.format(eprocess)): \(error)")
      }
    }
    return (processes, warnings)
  }

  /// The process at `eprocess`. Its PEB and times are 0 when unreadable, each with a line in `warnings`
  /// naming the member, its address and why (a PEB that cannot be read is not "no PEB" silently).
  static func process(at eprocess: UInt64, layout: Layout, kernel: Kernel, warnings: inout [String])
    throws(WindowsKernelError) -> Process
  {
    let pid = try kernel.readPointer(eprocess &+ layout.pid)
    let ppid = try kernel.readPointer(eprocess &+ layout.ppid)
    let nameBytes = try kernel.read(eprocess &+ layout.imageFileName, count: 15)
    let name = String(decoding: nameBytes.prefix { $0 != 0 }, as: UTF8.self)
    let dtb = try kernel.readUnsigned(eprocess &+ layout.dtb, width: kernel.pointerSize)
    func field(_ member: String, _ offset: UInt64, width: Int) -> UInt64 {
      do { return try kernel.readUnsigned(eprocess &+ offset, width: width) } catch {
        warnings.append(
          WindowsKernelError.unreadableField(
            structName: "_EPROCESS", field: member, address: eprocess &+ offset, reason: error.description
          ).description)
        return 0
      }
    }
    let peb = field("Peb", layout.peb, width: kernel.pointerSize)
    let create = field("CreateTime", layout.createTime, width: 8)
    let exit = field("ExitTime", layout.exitTime, width: 8)
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
