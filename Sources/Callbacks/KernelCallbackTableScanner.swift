// Reads PEB.KernelCallbackTable of every process, finds user32 in each (PEB.Ldr, VAD tree when
// the loader page is absent) and derives the expected table; the verdicts are Analysis's
// (CallbackTableVerdicts). A WOW64 process has a
// second, 32-bit table (PEB32.KernelCallbackTable, 4-byte slots into the SysWOW64 user32) checked
// against the majority among WOW64 tables.

import AddressSpace
import BinaryReading
import Symbols
import WindowsKernel

/// Checks KernelCallbackTables across processes.
public enum KernelCallbackTableScanner {
  /// Upper bound on slots read from a table (user32's apfnDispatch has about 110–130).
  public static let maxSlots = 256

  /// Per-process facts gathered before the expectation is known.
  public struct Gathered: Sendable {
    public var process: WindowsKernel.Process
    public var table: UInt64
    public var wow64: Bool
    public var modules: [UserModule]
    public var vads: [Vad]
    public var warnings: [String]
    public var user32: UserModule? { modules.first { $0.name.lowercased() == "user32.dll" } }
  }

  /// Reads the table pointer, modules and VADs of each process (no verdicts yet). A WOW64 process also
  /// yields a second entry (`wow64: true`) for its 32-bit PEB; those come after all native entries.
  public static func gather(_ kernel: Kernel, processes: [WindowsKernel.Process]) -> [Gathered] {
    let kctOffset: UInt64?
    var kctMissing: String?
    do { kctOffset = try kernel.offset("_PEB", "KernelCallbackTable") } catch {
      kctOffset = nil
      kctMissing = error.description
    }
    var wow64Entries: [Gathered] = []
    let native = processes.map { process in
      var warnings: [String] = []
      var table: UInt64 = 0
      let space = ProcessList.addressSpace(of: process, kernel: kernel)
      if process.peb != 0, let kctOffset {
        do { table = try space.readPointer(process.peb &+ kctOffset) } catch {
          warnings.append("PEB.KernelCallbackTable unreadable: \(error)")
        }
      } else if process.peb != 0, let kctMissing {
        // Without the offset no table can be read: said for each process that has a PEB.
        warnings.append("PEB.KernelCallbackTable unreadable: \(kctMissing)")
      }
      var modules: [UserModule] = []
      if process.peb != 0 {
        do {
          let (m, w) = try ProcessModules.native(process, kernel: kernel)
          modules = m
          warnings += w
        } catch { warnings.append("PEB.Ldr: \(error)") }
      }
      var vads: [Vad] = []
      do {
        let tree = try VadTree.read(process, kernel: kernel)
        vads = tree.vads
        warnings += tree.warnings
      } catch { warnings.append("VAD tree: \(error)") }
      if let fallback = user32FromVad(vads, modules: modules, wow64: false) { modules.append(fallback) }
      if let entry = gatherWow64(process, kernel: kernel, vads: vads) { wow64Entries.append(entry) }
      return Gathered(process: process, table: table, wow64: false, modules: modules, vads: vads, warnings: warnings)
    }
    return native + wow64Entries
  }

  /// The 32-bit side of a WOW64 process: PEB32.KernelCallbackTable and the 32-bit loader list (nil when native).
  static func gatherWow64(_ process: WindowsKernel.Process, kernel: Kernel, vads: [Vad]) -> Gathered? {
    guard ProcessModules.wow64Peb(process, kernel: kernel) != nil else { return nil }
    var warnings: [String] = []
    var table: UInt64 = 0
    do { table = try ProcessModules.wow64KernelCallbackTable(process, kernel: kernel) ?? 0 } catch {
      warnings.append("PEB.KernelCallbackTable unreadable (PEB32): \(error)")
    }
    var modules: [UserModule] = []
    do {
      let (m, w) = try ProcessModules.wow64(process, kernel: kernel)
      modules = m
      warnings += w
    } catch { warnings.append("PEB32.Ldr: \(error)") }
    if let fallback = user32FromVad(vads, modules: modules, wow64: true) { modules.append(fallback) }
    return Gathered(process: process, table: table, wow64: true, modules: modules, vads: vads, warnings: warnings)
  }

  /// user32 from its image-backed VAD when the loader list lacks it (absent or paged out): the
  /// `\Windows\SysWOW64\user32.dll` mapping for the 32-bit side, any other `user32.dll` for the native one.
  static func user32FromVad(_ vads: [Vad], modules: [UserModule], wow64: Bool) -> UserModule? {
    guard modules.first(where: { $0.name.lowercased() == "user32.dll" }) == nil else { return nil }
    let vad = vads.first { vad in
      let name = (vad.fileName ?? "").lowercased()
      return name.hasSuffix("\\user32.dll") && name.hasSuffix("\\syswow64\\user32.dll") == wow64
    }
    guard let vad, vad.end >= vad.start, case let (size, overflow) = (vad.end - vad.start).addingReportingOverflow(1),
      !overflow
    else { return nil }
    return UserModule(name: "user32.dll", path: vad.fileName ?? "", base: vad.start, size: size, source: "vad")
  }

  /// Bytes per table slot: 4 in a WOW64 (32-bit) table, the kernel's pointer size otherwise.
  public static func slotWidth(wow64: Bool, kernel: Kernel) -> Int { wow64 ? 4 : kernel.pointerSize }

  /// Reads slot `index` of the table at `table` (`width` bytes, little-endian).
  public static func readSlot(_ table: UInt64, index: Int, width: Int, space: VirtualAddressSpace) -> UInt64? {
    // index < maxSlots and width <= 8: the product is small; the sum is checked.
    let (address, overflow) = table.addingReportingOverflow(UInt64(index) &* UInt64(width))
    guard !overflow else { return nil }
    if width == 4 { return (try? space.readUInt32(address)).map(UInt64.init) }
    return try? space.readPointer(address)
  }

  /// The expectation without user32's PDB: the table value most GUI processes share that lies
  /// inside user32; its slots are read from a process that maps it.
  /// Only entries of the given side (`wow64`) vote: a WOW64 table lies in the 32-bit user32 and differs
  /// from the native one.
  public static func majority(_ gathered: [Gathered], kernel: Kernel, wow64: Bool = false) -> ExpectedCallbackTable? {
    var votes: [UInt64: Int] = [:]
    for g in gathered where g.table != 0 && g.wow64 == wow64 {
      if let u = g.user32, u.contains(g.table) { votes[g.table, default: 0] += 1 }
    }
    guard let (address, _) = votes.max(by: { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }),
      let host = gathered.first(where: { $0.wow64 == wow64 && $0.table == address && $0.user32 != nil }),
      let user32 = host.user32
    else { return nil }
    let slots = readSlots(address, process: host.process, kernel: kernel, within: user32, wow64: wow64)
    return ExpectedCallbackTable(address: address, slots: slots, names: [:], source: "majority")
  }

  /// Whether a public symbol looks like a user-mode callback routine of user32 (`__fnCOPYDATA`,
  /// `__ClientLoadLibrary`, `__xxxClientUpdateDpi`, `_fnDWORD` on older builds); such names are listed
  /// first where several publics share a routine's address.
  public static func isCallbackRoutineName(_ name: String) -> Bool {
    name.hasPrefix("__fn") || name.hasPrefix("__Client") || name.hasPrefix("__xxx") || name.hasPrefix("_fn")
  }

  /// Address → every public symbol of user32's profile at that address, for user32 mapped at `base`:
  /// callback-routine-like names first, then the rest, each group sorted. Whatever a public's prefix,
  /// it names the routine at its address (identical-code folding gives one routine several names).
  public static func routineNames(fromPDB profile: any KernelProfile, base: UInt64) -> [UInt64: [String]] {
    var names: [UInt64: [String]] = [:]
    let ordered = profile.symbolNames.sorted { a, b in
      let (ca, cb) = (isCallbackRoutineName(a), isCallbackRoutineName(b))
      return ca != cb ? ca : a < b
    }
    for name in ordered {
      guard let rva = profile.symbol(name)?.rva else { continue }
      let (address, overflow) = base.addingReportingOverflow(rva)
      if !overflow { names[address, default: []].append(name) }
    }
    return names
  }

  /// Slot index → routine names, for the slots whose routine `names` knows.
  public static func slotNames(_ slots: [UInt64], names: [UInt64: [String]]) -> [Int: [String]] {
    var out: [Int: [String]] = [:]
    for (i, routine) in slots.enumerated() { out[i] = names[routine] }
    return out
  }

  /// The expectation from user32's PDB profile: `apfnDispatch` (public symbol) in `user32` as mapped in
  /// `process`, its slots, and every public name of each. Nil when the profile lacks `apfnDispatch`.
  public static func expected(
    fromPDB profile: any KernelProfile, user32: UserModule, process: WindowsKernel.Process, kernel: Kernel
  ) -> ExpectedCallbackTable? {
    guard let dispatch = profile.symbol("apfnDispatch"), dispatch.rva < user32.size else { return nil }
    let address = user32.base &+ dispatch.rva  // rva < user32.size, and base + size is a mapped address
    let slots = readSlots(address, process: process, kernel: kernel, within: user32)
    let names = routineNames(fromPDB: profile, base: user32.base)
    return ExpectedCallbackTable(address: address, slots: slots, names: slotNames(slots, names: names), source: "pdb")
  }

  /// Reads the slots of the table at `address` while they point into `module` (the real table
  /// ends where user32's data that follows it begins); 4-byte slots when `wow64`.
  public static func readSlots(
    _ address: UInt64, process: WindowsKernel.Process, kernel: Kernel, within module: UserModule, wow64: Bool = false
  )
    -> [UInt64]
  {
    let space = ProcessList.addressSpace(of: process, kernel: kernel)
    let width = slotWidth(wow64: wow64, kernel: kernel)
    var slots: [UInt64] = []
    for i in 0..<maxSlots {
      guard let value = readSlot(address, index: i, width: width, space: space),
        module.contains(value)
      else { break }
      slots.append(value)
    }
    return slots
  }
}
