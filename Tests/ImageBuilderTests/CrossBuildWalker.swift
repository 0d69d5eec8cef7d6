// An independent reader of a cross-build demo image: python walks the planted lists and arrays with
// the build's own ISF offsets (public types: the loader entry is `_KLDR_DATA_TABLE_ENTRY` where the
// ISF has it, else `_LDR_DATA_TABLE_ENTRY`), and the documented offsets of the undocumented records
// (EX_CALLBACK_ROUTINE_BLOCK Function +0x8, Context +0x10; CM_CALLBACK_CONTEXT_BLOCK Function +0x28,
// Altitude +0x30; KBUGCHECK_CALLBACK_RECORD CallbackRoutine +0x10, Component +0x28: wdm.h and the
// public write-ups cited in CallbackRecordLayouts.swift). It shares no code with CallScope.

import Foundation
import TestData

/// What the python walker read from an image.
struct WalkedImage {
  struct Module: Equatable {
    var name: String
    var base: UInt64
    var size: UInt64
  }
  struct Callback {
    var family: String
    var index: Int
    var routine: UInt64
    /// process-/image-notify: the block's Context; registry: altitude; bugcheck: component.
    var detail: String
  }
  var modules: [Module]
  var processes: [(name: String, pid: UInt64)]
  var callbacks: [Callback]
  /// KUSER_SHARED_DATA NtMajorVersion, NtMinorVersion and (where the build has it) NtBuildNumber;
  /// `NtBuildNumberVariable`: the kernel variable NtBuildNumber.
  var kuser: [String: UInt64]
  /// Raw value of every PspLoadImageNotifyRoutine slot up to 9 (slot 8 lies past Windows 7's array).
  var imageNotifySlots: [UInt64]

  static let script =
    Oracles.pythonISFKernelReader + """

      image_slots = int(sys.argv[5])
      L = '_KLDR_DATA_TABLE_ENTRY' if '_KLDR_DATA_TABLE_ENTRY' in U else '_LDR_DATA_TABLE_ENTRY'
      mods = []
      for e in walk(sym('PsLoadedModuleList')):
          r = e - off(L, 'InLoadOrderLinks')
          mods.append({'name': ustr(r + off(L, 'BaseDllName')), 'base': ptr(r + off(L, 'DllBase')),
                       'size': u32(r + off(L, 'SizeOfImage'))})
      procs = []
      for e in walk(sym('PsActiveProcessHead')):
          p = e - off('_EPROCESS', 'ActiveProcessLinks')
          procs.append({'pid': ptr(p + off('_EPROCESS', 'UniqueProcessId')),
                        'name': vread(p + off('_EPROCESS', 'ImageFileName'), 15).split(b'\\0')[0].decode()})
      cbs = []
      for fam, head, n in (('process-notify', 'PspCreateProcessNotifyRoutine', 64),
                           ('image-notify', 'PspLoadImageNotifyRoutine', image_slots)):
          for i in range(n):
              v = ptr(sym(head) + 8 * i)
              if v: cbs.append({'family': fam, 'index': i, 'routine': ptr((v & ~0xf) + 8),
                                'detail': str(ptr((v & ~0xf) + 0x10))})
      for i, e in enumerate(walk(sym('CallbackListHead'))):
          cbs.append({'family': 'registry', 'index': i, 'routine': ptr(e + 0x28), 'detail': ustr(e + 0x30)})
      for i, e in enumerate(walk(sym('KeBugCheckCallbackListHead'))):
          c = vread(ptr(e + 0x28), 32)
          cbs.append({'family': 'bugcheck', 'index': i, 'routine': ptr(e + 0x10), 'detail': c[:c.index(0)].decode()})
      K = 0xfffff78000000000
      kuser = {m: u32(K + off('_KUSER_SHARED_DATA', m)) for m in ('NtMajorVersion', 'NtMinorVersion', 'NtBuildNumber')
               if m in U['_KUSER_SHARED_DATA']['fields']}
      kuser['NtBuildNumberVariable'] = u32(sym('NtBuildNumber'))
      slots = [ptr(sym('PspLoadImageNotifyRoutine') + 8 * i) for i in range(9)]
      print(json.dumps({'modules': mods, 'processes': procs, 'callbacks': cbs, 'kuser': kuser, 'slots': slots}))
      """

  /// Walks the image at `path` (kernel CR3 `dtb`, kernel at `base`) with the ISF at `isf`.
  static func walk(path: String, dtb: UInt64, base: UInt64, isf: String, imageNotifySlots: Int) throws -> WalkedImage {
    guard
      let json = try Oracles.python(script, [path, "\(dtb)", "\(base)", isf, "\(imageNotifySlots)"]) as? [String: Any],
      let modules = json["modules"] as? [[String: Any]], let processes = json["processes"] as? [[String: Any]],
      let callbacks = json["callbacks"] as? [[String: Any]], let kuser = json["kuser"] as? [String: NSNumber],
      let slots = json["slots"] as? [NSNumber]
    else { throw TestDataError.tool("python walker gave no result for \(path)") }
    func number(_ value: Any?) -> UInt64 { (value as? NSNumber)?.uint64Value ?? 0 }
    return WalkedImage(
      modules: modules.map {
        Module(name: $0["name"] as? String ?? "", base: number($0["base"]), size: number($0["size"]))
      },
      processes: processes.map { ($0["name"] as? String ?? "", number($0["pid"])) },
      callbacks: callbacks.map {
        Callback(
          family: $0["family"] as? String ?? "", index: $0["index"] as? Int ?? -1, routine: number($0["routine"]),
          detail: $0["detail"] as? String ?? "")
      },
      kuser: kuser.mapValues(\.uint64Value), imageNotifySlots: slots.map(\.uint64Value))
  }

  /// The module whose range holds `address`.
  func module(containing address: UInt64) -> Module? {
    modules.first { address >= $0.base && address - $0.base < $0.size }
  }
}
