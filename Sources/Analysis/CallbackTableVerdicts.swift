// The KernelCallbackTable verdicts: which Rule each process's table and each slot breaks, from the
// facts KernelCallbackTableScanner gathered (table pointer, user-mode modules, VADs) and the
// expected table (user32's PDB, or the majority of GUI processes).

import BinaryReading
import Callbacks
import WindowsKernel

/// Flags KernelCallbackTables.
public enum CallbackTableVerdicts {
  /// Verdicts for each process with a table. `expected` applies to native tables; WOW64 tables are checked
  /// against `wow64Expected`, by default the majority among WOW64 tables (`majority(_:kernel:wow64: true)`).
  public static func check(
    _ gathered: [KernelCallbackTableScanner.Gathered], expected nativeExpected: ExpectedCallbackTable?, kernel: Kernel,
    wow64Expected: ExpectedCallbackTable? = nil
  )
    -> [ProcessCallbackTable]
  {
    let wow64Expected =
      wow64Expected
      ?? (gathered.contains { $0.wow64 }
        ? KernelCallbackTableScanner.majority(gathered, kernel: kernel, wow64: true) : nil)
    return gathered.compactMap { g -> ProcessCallbackTable? in
      let expected = g.wow64 ? wow64Expected : nativeExpected
      let width = KernelCallbackTableScanner.slotWidth(wow64: g.wow64, kernel: kernel)
      guard g.table != 0 else {
        // No table: a non-GUI process, unless its PEB could not be read — then say so for this process.
        guard g.process.peb != 0, g.warnings.contains(where: { $0.hasPrefix("PEB.KernelCallbackTable unreadable") })
        else { return nil }
        return ProcessCallbackTable(
          process: g.process, table: 0, wow64: g.wow64, user32: g.user32, expected: expected?.address, slots: [],
          flags: [], warnings: g.warnings)
      }
      var flags: [Rule] = []
      let space = ProcessList.addressSpace(of: g.process, kernel: kernel)
      if let u = g.user32, !u.contains(g.table) { flags.append(.tableOutsideUser32) }
      if let expected, expected.address != g.table { flags.append(.tableDiffers) }
      if let vad = g.vads.first(where: { $0.contains(g.table) }), vad.privateMemory, vad.isWritableExecutable {
        flags.append(.tableInWritableExecutableMemory)
      }
      var warnings = g.warnings
      // How many slots to read: the expected table's length, else as many as point into user32; with
      // neither, the slots cannot be bounded and the process says so.
      let count: Int
      if let expected {
        count = expected.slots.count
      } else if let user32 = g.user32 {
        count =
          KernelCallbackTableScanner.readSlots(
            g.table, process: g.process, kernel: kernel, within: user32, wow64: g.wow64
          ).count
      } else {
        count = 0
        warnings.append(
          "table at \(Hex.format(g.table)): slots not read (no expected table, and user32 is not among the "
            + "process's modules to bound them)")
      }
      var slots: [CallbackTableSlot] = []
      for index in 0..<count {
        guard let routine = KernelCallbackTableScanner.readSlot(g.table, index: index, width: width, space: space)
        else {
          warnings.append("slot \(index) at \(Hex.format(g.table &+ UInt64(index) &* UInt64(width))) unreadable")
          break
        }
        var slotFlags: [Rule] = []
        let owner = g.modules.first { $0.contains(routine) }
        let ownerName = owner?.name.lowercased()
        if ownerName != "user32.dll" && ownerName != "win32u.dll" { slotFlags.append(.slotOutsideModule) }
        if let expected, index < expected.slots.count, expected.slots[index] != routine {
          slotFlags.append(.slotDiffers)
        }
        if let vad = g.vads.first(where: { $0.contains(routine) }), vad.privateMemory {
          slotFlags.append(vad.isWritableExecutable ? .privateExecutable : .slotInPrivateMemory)
        }
        slots.append(
          CallbackTableSlot(
            index: index, routine: routine, names: expected?.names[index] ?? [],
            module: owner.map { "\($0.name)+\(Hex.format(routine - $0.base))" }, flags: slotFlags.map(\.rawValue)))
      }
      return ProcessCallbackTable(
        process: g.process, table: g.table, wow64: g.wow64, user32: g.user32, expected: expected?.address, slots: slots,
        flags: flags.map(\.rawValue), warnings: warnings)
    }
  }
}
