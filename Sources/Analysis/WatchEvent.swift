// The events between two ticks of `callscope watch`: callbacks added / removed / changed (matched
// exactly as `callscope diff` matches them), modules loaded / unloaded, processes started / exited,
// and a KernelCallbackTable whose pointer or slots changed in a process present in both ticks.

import Callbacks
import WindowsKernel

/// One change seen by `watch`.
public enum WatchEvent: Sendable {
  case added(CallbackRow)
  case removed(CallbackRow)
  case changed(before: CallbackRow, after: CallbackRow, changes: [String])
  case moduleLoaded(LoadedModule)
  case moduleUnloaded(LoadedModule)
  case processStarted(WindowsKernel.Process)
  case processExited(WindowsKernel.Process)
  /// PEB.KernelCallbackTable now points elsewhere.
  case tablePointerChanged(before: ProcessCallbackTable, after: ProcessCallbackTable)
  /// One slot of an unmoved table holds another routine (nil: the slot is no longer read).
  case tableSlotChanged(table: ProcessCallbackTable, before: CallbackTableSlot?, after: CallbackTableSlot?)

  /// The `event` name in JSON Lines.
  public var name: String {
    switch self {
    case .added: return "added"
    case .removed: return "removed"
    case .changed: return "changed"
    case .moduleLoaded: return "module-loaded"
    case .moduleUnloaded: return "module-unloaded"
    case .processStarted: return "process-started"
    case .processExited: return "process-exited"
    case .tablePointerChanged: return "kct-pointer-changed"
    case .tableSlotChanged: return "kct-slot-changed"
    }
  }

  /// The events from `before` to `after`, in a fixed order: modules, processes, callbacks, tables.
  public static func between(_ before: WatchSnapshot, _ after: WatchSnapshot) -> [WatchEvent] {
    var events: [WatchEvent] = []
    let moduleKey: (LoadedModule) -> String = { "\($0.name.lowercased())|\($0.base)|\($0.size)" }
    let (loaded, unloaded) = difference(before.modules, after.modules, key: moduleKey)
    events += unloaded.map(WatchEvent.moduleUnloaded) + loaded.map(WatchEvent.moduleLoaded)
    let processKey: (WindowsKernel.Process) -> String = { "\($0.pid)|\($0.eprocess)|\($0.createTime)" }
    let (started, exited) = difference(before.processes, after.processes, key: processKey)
    events += exited.map(WatchEvent.processExited) + started.map(WatchEvent.processStarted)

    let diff = CallbackDiff(baseline: before.diffRows, current: after.diffRows)
    events += diff.removedIndices.map { .removed(before.callbacks[$0]) }
    events += diff.addedIndices.map { .added(after.callbacks[$0]) }
    for (pair, change) in zip(diff.changedIndices, diff.changed) {
      events.append(
        .changed(before: before.callbacks[pair.baseline], after: after.callbacks[pair.current], changes: change.changes)
      )
    }

    let tableKey: (ProcessCallbackTable) -> String = { "\(processKey($0.process))|\($0.wow64)" }
    var earlier: [String: ProcessCallbackTable] = [:]
    for t in before.tables { earlier[tableKey(t)] = t }
    for t in after.tables {
      guard let old = earlier[tableKey(t)] else { continue }  // a new process: process-started says it
      if old.table != t.table {
        events.append(.tablePointerChanged(before: old, after: t))
        continue
      }
      let oldSlots = Dictionary(old.slots.map { ($0.index, $0) }, uniquingKeysWith: { a, _ in a })
      let newSlots = Dictionary(t.slots.map { ($0.index, $0) }, uniquingKeysWith: { a, _ in a })
      for index in Set(oldSlots.keys).union(newSlots.keys).sorted()
      where oldSlots[index]?.routine != newSlots[index]?.routine {
        events.append(.tableSlotChanged(table: t, before: oldSlots[index], after: newSlots[index]))
      }
    }
    return events
  }

  /// Items of `after` whose key `before` lacks, and items of `before` whose key `after` lacks.
  static func difference<T>(_ before: [T], _ after: [T], key: (T) -> String) -> (new: [T], gone: [T]) {
    let beforeKeys = Set(before.map(key))
    let afterKeys = Set(after.map(key))
    return (after.filter { !beforeKeys.contains(key($0)) }, before.filter { !afterKeys.contains(key($0)) })
  }
}
