// The instrumentation-callback family: a process's instrumentation callback
// (NtSetInformationProcess(ProcessInstrumentationCallback), KPROCESS.InstrumentationCallback on
// x64 Windows 10): every return from the kernel to user mode in that process jumps to it first.
// EDRs use it to watch system calls; malware uses it to see and hide its own. The routine is a
// user-mode address of that process: its owner is the process's module around it (PEB loader
// list), not a kernel module.

import BinaryReading
import Symbols
import WindowsKernel

extension FamilyDescriptor {
  /// KPROCESS.InstrumentationCallback of every process.
  public static let instrumentationCallback = FamilyDescriptor(
    id: "instrumentation-callback", title: "Per-process instrumentation callbacks (user mode, every kernel return)",
    registration: "NtSetInformationProcess(ProcessInstrumentationCallback)",
    heads: [FamilyHead("PsActiveProcessHead", .kernelModel)],
    structs: ["_KPROCESS"],
    rules: [InstrumentationCallbackReader.outsideImages],
    reader: InstrumentationCallbackReader())
}

/// Reads KPROCESS.InstrumentationCallback of every listed process.
public struct InstrumentationCallbackReader: CallbackFamily {
  public var ids: [String] { ["instrumentation-callback"] }
  public init() {}

  /// The callback lies in no module the process loaded (private or unlisted memory).
  public static let outsideImages = VerdictRule(
    "instrumentation-outside-images", .high,
    "a process's instrumentation callback lies outside every module of the process (private memory)")

  public func collect(_ c: CallbackContext) -> [FamilyResult] {
    let id = "instrumentation-callback"
    let head: (address: UInt64, provenance: Provenance)
    let offset: UInt64
    let processes: [WindowsKernel.Process]
    var result = FamilyResult(family: id)
    do throws(WindowsKernelError) {
      head = try c.head("PsActiveProcessHead")
      offset = try c.offset("_KPROCESS", "InstrumentationCallback")
      // The process list's own defects (a loop, a broken link) are the processes report's to tell;
      // the walk recovers every process it can, and those are what this family reads.
      processes = try ProcessList.read(c.kernel).processes
    } catch {
      return [FamilyResult(family: id, notLocated: error.description)]
    }
    for process in processes {
      // Pcb is the first member of EPROCESS: the KPROCESS is at the EPROCESS address.
      guard let routine = c.pointer(process.eprocess &+ offset) else {
        result.warnings.append(
          "instrumentation-callback: \(process.name) (\(process.pid)): KPROCESS.InstrumentationCallback unreadable")
        continue
      }
      guard routine != 0 else { continue }
      let modules: [UserModule]?
      do { modules = try ProcessModules.native(process, kernel: c.kernel).modules } catch {
        modules = nil
        result.warnings.append(
          "instrumentation-callback: \(process.name) (\(process.pid)): PEB.Ldr unreadable (\(error)); "
            + "the callback's module is unknown")
      }
      let module = modules?.first { routine >= $0.base && routine &- $0.base < $0.size }
      var entry = CallbackEntry(
        family: id, head: head.address, headSymbol: "PsActiveProcessHead", index: Int(clamping: process.pid),
        routine: routine, object: process.eprocess,
        details: [
          ("pid", .int(Int64(clamping: process.pid))), ("process", .string(process.name)),
          ("userModule", module.map { .string("\($0.name)+\(Hex.format(routine &- $0.base))") } ?? .null),
        ],
        provenance: head.provenance)
      entry.userMode = true
      // Outside images only when the process's modules were read and none holds it.
      if let modules, !modules.isEmpty, module == nil { entry.flags = [Self.outsideImages.rawValue] }
      result.entries.append(entry)
    }
    return [result]
  }
}
