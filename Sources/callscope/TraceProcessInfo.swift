// What `trace` learns once per process and keeps: its user-mode modules (PEB → Ldr, read in the
// process's own address space while one of its threads is stopped), each module's names for return
// addresses (exports and PDB publics, TraceSymbolFiles), and user32's ApiNumber → __fn* map from
// user32's PDB (apfnDispatch and its slots).

import BinaryReading
import Callbacks
import PortableExecutable
import Symbols

/// A user-mode module of a traced process.
struct TraceModule {
  var name: String
  var base: UInt64
  var size: UInt64
  /// Exports and PDB publics sorted by RVA (nil until first needed; empty when unreadable).
  var names: [(rva: UInt64, name: String)]?

  func contains(_ va: UInt64) -> Bool { va >= base && va - base < size }

  /// `name` without its extension (`user32`), as debuggers print module names.
  var shortName: String {
    guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return name }
    return String(name[..<dot])
  }
}

/// Per-process facts, read at the process's first hit.
struct TraceProcessInfo {
  var modules: [TraceModule]
  /// ApiNumber → __fn* name (empty when user32's PDB is not on the symbol path).
  var callbackNames: [Int: String]
  var warnings: [String]
  /// Where module PDBs are found (shared by every process of the trace).
  let symbolFiles: TraceSymbolFiles
  /// Per module index: its PE image and function table, read at its first unwind.
  var functions: [Int: (image: PEImage?, table: [RuntimeFunction])] = [:]

  /// The longest module list walked.
  static let maxModules = 1024
  /// The most slots of apfnDispatch read.
  static let maxSlots = 256

  static func read(
    eprocess: UInt64, memory: TraceMemory, layout: TraceLayout, symbolFiles: TraceSymbolFiles
  ) -> TraceProcessInfo {
    var info = TraceProcessInfo(modules: [], callbackNames: [:], warnings: [], symbolFiles: symbolFiles)
    do {
      let width = layout.pointerSize
      let peb = try memory.unsigned(eprocess &+ layout.peb, width: width, what: "EPROCESS.Peb")
      let ldr = try memory.unsigned(peb &+ layout.pebLdr, width: width, what: "PEB.Ldr")
      let head = ldr &+ layout.ldrInLoadOrder
      var link = try memory.unsigned(head, width: width, what: "PEB_LDR_DATA.InLoadOrderModuleList.Flink")
      var seen: Set<UInt64> = [head]
      while link != head, info.modules.count < maxModules, seen.insert(link).inserted {
        let entry = link &- layout.entryLinks
        let base = try memory.unsigned(
          entry &+ layout.entryDllBase, width: width, what: "LDR_DATA_TABLE_ENTRY.DllBase")
        let size = try memory.unsigned(
          entry &+ layout.entrySizeOfImage, width: 4, what: "LDR_DATA_TABLE_ENTRY.SizeOfImage")
        let name = try memory.unicodeString(
          at: entry &+ layout.entryBaseDllName, lengthOffset: layout.stringLength, bufferOffset: layout.stringBuffer,
          pointerSize: width, what: "LDR_DATA_TABLE_ENTRY.BaseDllName")
        info.modules.append(TraceModule(name: name, base: base, size: size, names: nil))
        link = try memory.unsigned(link, width: width, what: "LDR_DATA_TABLE_ENTRY.InLoadOrderLinks.Flink")
      }
    } catch {
      info.warnings.append("modules of EPROCESS 0x\(String(eprocess, radix: 16)): \(error)")
    }
    if let user32 = info.modules.first(where: { $0.name.lowercased() == "user32.dll" }) {
      info.callbackNames = callbackNames(
        user32, memory: memory, pointerSize: layout.pointerSize, symbolFiles: symbolFiles, warnings: &info.warnings)
    }
    return info
  }

  /// ApiNumber → name from user32's PDB: apfnDispatch's slots read from the process, named by the
  /// PDB's __fn* publics.
  static func callbackNames(
    _ user32: TraceModule, memory: TraceMemory, pointerSize: Int, symbolFiles: TraceSymbolFiles,
    warnings: inout [String]
  ) -> [Int: String] {
    let source = TraceModuleSource(memory: memory, base: user32.base, size: user32.size, sourceName: "user32.dll")
    guard let pe = try? PEImage(source: source, layout: .mapped), let cv = try? pe.codeView() else {
      warnings.append("user32.dll's debug directory is not readable: callbacks are named by index only")
      return [:]
    }
    let identity = PDBIdentity(name: cv.pdbFileName, guid: cv.guidString, age: cv.age)
    guard let profile = symbolFiles.profile(identity),
      let dispatch = profile.symbol("apfnDispatch"), dispatch.rva < user32.size
    else {
      warnings.append(
        "\(identity.name) \(identity.isfKey) (with apfnDispatch) not found: callbacks named by index only")
      return [:]
    }
    let names = KernelCallbackTableScanner.routineNames(fromPDB: profile, base: user32.base)
    let table = user32.base &+ dispatch.rva  // rva < size of a mapped module
    guard let raw = try? memory.read(table, count: maxSlots * pointerSize, what: "user32!apfnDispatch") else {
      warnings.append("user32!apfnDispatch at 0x\(String(table, radix: 16)) is not readable")
      return [:]
    }
    var out: [Int: String] = [:]
    for (index, slot) in ByteCursor(raw).words(width: pointerSize).enumerated() {
      guard user32.contains(slot) else { break }
      if let name = names[slot].flatMap({ symbolFiles.displayNames($0).first }) { out[index] = name }
    }
    return out
  }

  /// `module!name+0xoff` for `va` (nearest export or PDB public at or below it), `module+0xoff`
  /// without one, nil outside every module.
  mutating func symbolize(_ va: UInt64, memory: TraceMemory) -> String? {
    guard let index = modules.firstIndex(where: { $0.contains(va) }) else { return nil }
    if modules[index].names == nil { modules[index].names = symbolFiles.names(of: modules[index], memory: memory) }
    let module = modules[index]
    let rva = va - module.base  // contains(va): base ≤ va
    if let nearest = module.names?.last(where: { $0.rva <= rva }) {
      return "\(module.shortName)!\(nearest.name)+0x\(String(rva - nearest.rva, radix: 16))"
    }
    return "\(module.shortName)+0x\(String(rva, radix: 16))"
  }
}
