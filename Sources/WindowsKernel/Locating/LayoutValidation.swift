// Checks that lent struct layouts fit the kernel in memory, on the one object every system has:
// the System process (PsInitialSystemProcess) has UniqueProcessId 4, ImageFileName "System" and
// the kernel's DTB in DirectoryTableBase, and its ActiveProcessLinks round-trip.

import BinaryReading

/// Validation of lent layouts against the data.
public enum LayoutValidation {
  /// The problems found (empty when the layouts fit).
  public static func problems(kernel: Kernel) -> [String] {
    guard let variable = try? kernel.address(of: "PsInitialSystemProcess") else {
      return ["PsInitialSystemProcess is not exported: the System process cannot be checked"]
    }
    guard let system = try? kernel.readPointer(variable), kernel.isKernelAddress(system) else {
      return ["PsInitialSystemProcess at \(Hex.format(variable)) does not point into kernel space"]
    }
    var problems: [String] = []
    func check(_ structName: String, _ field: String, _ test: (UInt64) -> String?) {
      guard let offset = try? kernel.offset(structName, field) else {
        problems.append("\(structName).\(field): not in the lent layouts")
        return
      }
      if let problem = test(system &+ offset) {
        problems.append("\(structName).\(field) at +\(Hex.format(offset)): \(problem)")
      }
    }
    check("_EPROCESS", "UniqueProcessId") { va in
      guard let pid = try? kernel.readPointer(va) else { return "unreadable at \(Hex.format(va))" }
      return pid == 4 ? nil : "reads \(pid), the System process has 4"
    }
    check("_EPROCESS", "ImageFileName") { va in
      guard let bytes = try? kernel.read(va, count: 15) else { return "unreadable at \(Hex.format(va))" }
      let name = String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
      return name == "System" ? nil : "reads \"\(name)\", expected \"System\""
    }
    // The KPROCESS is EPROCESS.Pcb; a layout without Pcb cannot place DirectoryTableBase.
    let pcb = try? kernel.offset("_EPROCESS", "Pcb")
    if pcb == nil { problems.append("_EPROCESS.Pcb: not in the lent layouts") }
    if let pcb {
      check("_KPROCESS", "DirectoryTableBase") { va in
        let va = va &+ pcb
        guard let dtb = try? kernel.readPointer(va) else { return "unreadable at \(Hex.format(va))" }
        return dtb & ~0xfff == kernel.space.dtb & ~0xfff
          ? nil : "reads \(Hex.format(dtb)), the DTB is \(Hex.format(kernel.space.dtb))"
      }
    }
    check("_EPROCESS", "ActiveProcessLinks") { va in
      guard let flink = try? kernel.readPointer(va),
        let back = try? kernel.readPointer(flink &+ UInt64(kernel.pointerSize))
      else {
        return "links unreadable"
      }
      return back == va ? nil : "Flink→Blink does not return"
    }
    return problems
  }
}
