// The silo-monitor family (PsRegisterSiloMonitor): its descriptor.

import BinaryReading
import Symbols
import WindowsKernel

extension FamilyDescriptor {
  /// PsRegisterSiloMonitor: SERVER_SILO_MONITOR on PspSiloMonitorList — a create and a terminate row.
  public static let siloMonitor = FamilyDescriptor(
    id: "silo-monitor", title: "Server-silo monitors", registration: "PsRegisterSiloMonitor",
    heads: [
      FamilyHead(
        "PspSiloMonitorList", .code(exports: ["PsRegisterSiloMonitor", "PsUnregisterSiloMonitor"], shape: .list))
    ],
    symbols: ["PsRegisterSiloMonitor"],
    structs: ["_SERVER_SILO_MONITOR"],
    reader: ListFamily(
      id: "silo-monitor", symbol: "PspSiloMonitorList",
      linkOffset: { c throws(WindowsKernelError) in try c.layouts.siloMonitor["ListEntry"] },
      read: { c, record, _ throws(WindowsKernelError) in
        let l = c.layouts.siloMonitor
        let create = try c.kernel.readPointer(record &+ (try l["CreateCallback"]))
        var f = c.fields(l, at: record)
        // An unreadable TerminateCallback gives no row but a warning (f.warnings).
        let terminate = f.pointer("TerminateCallback")
        let version = f.unsigned("Version", width: 1)
        var name: String?
        if let va = f.pointer("ComponentName"), va != 0 {
          do { name = try c.kernel.readUnicodeString(va) } catch { f.unreadable("ComponentName", at: va, error) }
        }
        let common: [(String, DetailValue)] = [
          ("componentName", .string(orNull: name)), ("version", .int(orNull: version)),
        ]
        let createRow = ListFamily.Row(
          routine: create, details: [("index", .int(0)), ("name", .string("CreateCallback"))] + common,
          warnings: f.warnings)
        guard let terminate else { return [createRow] }
        return [
          createRow,
          ListFamily.Row(
            routine: terminate, details: [("index", .int(1)), ("name", .string("TerminateCallback"))] + common),
        ]
      }))
}
