// The demo image (`callscope demo`) read back three ways: by CallScope's library (discovery, the
// bundled profile offline, module and process lists, callback scanner, verdicts); by an independent
// python script that walks the planted structures with the ISF's own offsets; and by Volatility 3
// (pslist, modules, callbacks) with the same ISF. Every planted callback must come out with its owner.

import Analysis
import Callbacks
import Foundation
import ImageBuilder
import MemoryImage
import Symbols
import TestData
import Testing
import WindowsKernel

struct DemoScenarioTests {
  @Test func libraryReportsEveryPlantedCallbackWithItsOwner() throws {
    let (builder, path) = try DemoFacts.writeDemo()
    let truth = builder.truth
    let memory = try MemoryImageOpener.open(path: path)
    let system = try KernelDiscovery.discover(memory: memory)
    let image = try #require(system.kernel)
    #expect(image.base == truth.kernelBase)
    #expect(system.space.dtb == truth.dtb)
    #expect(image.pdb == PDBIdentity(name: "ntkrnlmp.pdb", guid: "3177D31000BA7590DED335936C93E374", age: 1))
    let profile = try ProfileLoader.load(
      identity: image.pdb, symbolPath: SymbolPath(elements: []), offline: true,
      openPDB: { path in try PDBProfile(path: path) })
    let kernel = Kernel(space: system.space, image: image, profile: profile)

    let (modules, moduleWarnings) = try ModuleList.read(kernel)
    #expect(moduleWarnings.isEmpty)
    #expect(modules.map(\.name) == truth.modules.map(\.name))
    #expect(modules.map(\.base) == truth.modules.map(\.base))
    #expect(modules.map(\.size) == truth.modules.map(\.size))
    #expect(modules.first?.size == 0xE0_4000)

    let (processes, processWarnings) = try ProcessList.read(kernel)
    #expect(processWarnings.isEmpty)
    #expect(processes.map(\.name) == truth.processes.map(\.name))
    #expect(processes.map(\.pid) == truth.processes.compactMap(\.pid))
    #expect(processes.map(\.eprocess) == truth.processes.compactMap(\.eprocess))
    #expect(processes.map { $0.dtb & ~0xFFF } == truth.processes.map(\.dtb))

    let results = CallbackScanner.scan(CallbackContext(kernel: kernel, build: 19041))
    // Every other head was left empty (self-linked lists, zeroed arrays, object types without
    // callbacks); the CI and pico tables, which the demo does not plant, have size 0 (not
    // initialised, as on a machine without WSL) and are simply empty.
    #expect(results.filter { !$0.warnings.isEmpty }.map(\.family).sorted() == [])
    #expect(
      results.filter { ["ci", "pico"].contains($0.family) }.allSatisfy { $0.entries.isEmpty && $0.notLocated == nil })
    // The demo plants no object directory (no \Driver for irp-dispatch) and no fltmgr.sys or netio.sys, and leaves the service table,
    // the processor block (timers, IDTs), ObTypeIndexTable, HalDispatchTable and the device tree unfilled.
    #expect(
      results.compactMap { $0.notLocated == nil ? nil : $0.family } == [
        "object-other", "dbgk-lkmd", "pnp-target-device", "etw-logger", "minifilter", "wfp-callout", "irp-dispatch",
        "ssdt", "shadow-ssdt", "timer-dpc", "object-type-procedure", "hal-table", "idt", "interrupt-object",
      ])
    let verdicts = CallbackVerdicts(results: results, kernel: kernel, modules: modules, hidden: [])
    #expect(verdicts.familyFindings.isEmpty, "\(verdicts.familyFindings)")
    #expect(verdicts.rows.count == truth.callbacks.count)
    #expect(truth.callbacks.count == 11)
    for planted in truth.callbacks {
      let row = verdicts.rows.first {
        $0.entry.family == planted.family && $0.entry.index == planted.index && $0.entry.routine == planted.routine
      }
      #expect(row != nil, "\(planted.family)[\(planted.index)] not reported")
      #expect(row?.entry.headSymbol == planted.headSymbol)
      #expect(row?.entry.object == planted.object)
      #expect(row?.owner?.module.name == planted.owner, "\(planted.family)[\(planted.index)]")
      #expect(row?.flags.contains("outside-modules") == (planted.anomaly == "outside-modules"))
    }
    #expect(verdicts.rows.filter { !$0.flags.isEmpty }.count == 1)
  }

  /// Walks the planted lists and arrays with the ISF's offsets (public types) and the documented
  /// offsets of the undocumented records (EX_CALLBACK_ROUTINE_BLOCK.Function +0x8;
  /// CM_CALLBACK_CONTEXT_BLOCK.Function +0x28, Altitude +0x30; KBUGCHECK_CALLBACK_RECORD
  /// CallbackRoutine +0x10, Component +0x28).
  static let walker =
    Oracles.pythonISFKernelReader + """

      mods = []
      for e in walk(sym('PsLoadedModuleList')):
          r = e - off('_KLDR_DATA_TABLE_ENTRY', 'InLoadOrderLinks')
          mods.append({'name': ustr(r + off('_KLDR_DATA_TABLE_ENTRY', 'BaseDllName')),
                       'base': ptr(r + off('_KLDR_DATA_TABLE_ENTRY', 'DllBase'))})
      procs = []
      for e in walk(sym('PsActiveProcessHead')):
          p = e - off('_EPROCESS', 'ActiveProcessLinks')
          procs.append({'pid': ptr(p + off('_EPROCESS', 'UniqueProcessId')),
                        'name': vread(p + off('_EPROCESS', 'ImageFileName'), 15).split(b'\\0')[0].decode()})
      cbs = []
      for fam, head in (('process-notify', 'PspCreateProcessNotifyRoutine'), ('image-notify', 'PspLoadImageNotifyRoutine')):
          for i in range(64):
              v = ptr(sym(head) + 8 * i)
              if v: cbs.append({'family': fam, 'index': i, 'routine': ptr((v & ~0xf) + 8)})
      for i, e in enumerate(walk(sym('CallbackListHead'))):
          cbs.append({'family': 'registry', 'index': i, 'routine': ptr(e + 0x28), 'detail': ustr(e + 0x30)})
      for i, e in enumerate(walk(sym('KeBugCheckCallbackListHead'))):
          c = vread(ptr(e + 0x28), 32)
          cbs.append({'family': 'bugcheck', 'index': i, 'routine': ptr(e + 0x10), 'detail': c[:c.index(0)].decode()})
      print(json.dumps({'modules': mods, 'processes': procs, 'callbacks': cbs,
                        'system': ptr(sym('PsInitialSystemProcess'))}))
      """

  @Test func pythonWalksThePlantedStructuresWithTheISFOffsets() throws {
    let (builder, path) = try DemoFacts.writeDemo(seed: 5)
    let truth = builder.truth
    let json = try #require(
      try Oracles.python(
        Self.walker,
        [path, "\(truth.dtb)", "\(truth.kernelBase)", TestData.shared(DemoFacts.isfPath).path]) as? [String: Any])
    let modules = try #require(json["modules"] as? [[String: Any]])
    #expect(modules.compactMap { $0["name"] as? String } == truth.modules.map(\.name))
    #expect(modules.compactMap { ($0["base"] as? NSNumber)?.uint64Value } == truth.modules.map(\.base))
    let processes = try #require(json["processes"] as? [[String: Any]])
    #expect(processes.compactMap { $0["name"] as? String } == ["System", "smss.exe", "DemoApp.exe"])
    #expect(processes.compactMap { ($0["pid"] as? NSNumber)?.uint64Value } == truth.processes.compactMap(\.pid))
    #expect((json["system"] as? NSNumber)?.uint64Value == truth.processes.first?.eprocess)
    let callbacks = try #require(json["callbacks"] as? [[String: Any]])
    let seen = callbacks.map { row in
      "\(row["family"] as? String ?? "") \(row["index"] as? Int ?? -1) \((row["routine"] as? NSNumber)?.uint64Value ?? 0)"
    }
    #expect(seen.sorted() == truth.callbacks.map { "\($0.family) \($0.index) \($0.routine)" }.sorted())
    let details = callbacks.compactMap { $0["detail"] as? String }
    #expect(Set(details) == ["328010", "321410", "DemoEDR", "DemoNet", "DemoDisk"])
  }

  @Test func volatilityListsTheDemoProcessesModulesAndCallbacks() throws {
    let (builder, path) = try DemoFacts.writeDemo()
    let truth = builder.truth
    func vol(_ plugin: String) throws -> [[String: Any]] {
      try Oracles.volatility(isf: DemoFacts.isfPath, image: path, plugin: plugin)
    }
    let mask: UInt64 = 0x0000_FFFF_FFFF_FFFF  // Volatility prints kernel addresses cut to 48 bits
    let processes = try vol("windows.pslist")
    #expect(processes.compactMap { ($0["PID"] as? NSNumber)?.uint64Value } == truth.processes.compactMap(\.pid))
    #expect(processes.compactMap { $0["ImageFileName"] as? String } == truth.processes.map(\.name))
    let modules = try vol("windows.modules")
    #expect(modules.compactMap { $0["Name"] as? String } == truth.modules.map(\.name))
    #expect(modules.compactMap { ($0["Base"] as? NSNumber)?.uint64Value } == truth.modules.map { $0.base & mask })
    let callbacks = try vol("windows.callbacks")
    let heads = [
      "process-notify": "PspCreateProcessNotifyRoutine", "image-notify": "PspLoadImageNotifyRoutine",
      "registry": "CmRegisterCallbackEx", "bugcheck": "KeBugCheckCallbackListHead",
    ]
    let reported = Set(
      callbacks.map { row in
        let module = row["Module"] as? String ?? "-"
        return "\(row["Type"] as? String ?? "") \((row["Callback"] as? NSNumber)?.uint64Value ?? 0) \(module)"
      })
    for planted in truth.callbacks {
      // Volatility names the owner without the extension.
      let owner = planted.owner.map { String($0.split(separator: ".")[0]) } ?? "-"
      let key = "\(heads[planted.family] ?? "?") \(planted.routine & mask) \(owner)"
      #expect(reported.contains(key), "\(key) not in Volatility's callbacks")
    }
  }
}
