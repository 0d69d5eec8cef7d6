// One KeUserModeCallback hit as `trace` reports it, its JSON Lines form (schema callscope/1,
// event "callback"), and the grouped table and summary printed when the trace ends.

import Foundation
import Reports

/// A reported hit.
struct TraceEvent {
  var time: Date
  var index: Int
  var apiNumber: UInt64
  var name: String?
  var pid: UInt64
  var process: String
  var tid: UInt64?
  var thread: UInt64
  var eprocess: UInt64
  var caller: String?
  var trapFrameRip: UInt64?
  var trapFrameSymbol: String?

  /// The JSON Lines record.
  var json: JSONValue {
    .object([
      ("schema", .string("callscope/1")), ("event", .string("callback")), ("time", .string(Self.timestamp(time))),
      ("index", .int(Int64(truncatingIfNeeded: apiNumber))), ("name", .string(name)),
      ("pid", .int(Int64(pid & 0xFFFF_FFFF))),
      ("process", .string(process)), ("tid", tid.map { .int(Int64($0 & 0xFFFF_FFFF)) } ?? .null),
      ("caller", .string(caller)), ("trapFrameRip", trapFrameRip.map(JSONValue.address) ?? .null),
      ("trapFrameSymbol", .string(trapFrameSymbol)), ("thread", .address(thread)), ("eprocess", .address(eprocess)),
      ("hit", .int(Int64(index))),
    ])
  }

  /// ISO 8601 UTC with milliseconds.
  static func timestamp(_ date: Date) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    formatter.timeZone = TimeZone(identifier: "UTC")
    return formatter.string(from: date)
  }
}

/// Totals of a finished trace.
struct TraceSummary {
  var hits = 0
  var reported = 0
  var filteredOut = 0
  /// Hits whose thread or process could not be read (each a warning, the first 20 listed).
  var unreadable = 0
  var seconds: Double = 0
  /// Packets sent to the stub between the first and the last hit (acknowledgements not counted),
  /// and the hits they served: the round trips a hit costs.
  var packets = 0
  var warnings: [String] = []
  var stopReason = ""

  /// Counts per (ApiNumber, name, caller), most frequent first.
  static func counts(_ events: [TraceEvent]) -> [(index: UInt64, name: String?, caller: String?, count: Int)] {
    var counts: [String: (UInt64, String?, String?, Int)] = [:]
    for e in events {
      let key = "\(e.apiNumber)\u{1}\(e.name ?? "")\u{1}\(e.caller ?? "")"
      let old = counts[key]?.3 ?? 0
      counts[key] = (e.apiNumber, e.name, e.caller, old + 1)
    }
    return counts.values.sorted { a, b in
      a.3 != b.3 ? a.3 > b.3 : a.0 != b.0 ? a.0 < b.0 : (a.2 ?? "") < (b.2 ?? "")
    }.map { (index: $0.0, name: $0.1, caller: $0.2, count: $0.3) }
  }

  /// The closing JSON Lines record.
  func json(_ events: [TraceEvent]) -> JSONValue {
    .object([
      ("schema", .string("callscope/1")), ("event", .string("summary")), ("hits", .int(Int64(hits))),
      ("reported", .int(Int64(reported))), ("filteredOut", .int(Int64(filteredOut))),
      ("unreadable", .int(Int64(unreadable))), ("packets", .int(Int64(packets))),
      ("seconds", .string(String(format: "%.3f", seconds))), ("stopped", .string(stopReason)),
      (
        "counts",
        .array(
          Self.counts(events).map {
            .object([
              ("index", .int(Int64(truncatingIfNeeded: $0.index))), ("name", .string($0.name)),
              ("caller", .string($0.caller)), ("count", .int(Int64($0.count))),
            ])
          })
      ),
      ("warnings", .array(warnings.map { .string($0) })),
    ])
  }

  /// The table view: hits grouped by process, callback and caller, then the per-ApiNumber summary.
  func table(_ events: [TraceEvent]) -> String {
    var groups: [String: (pid: UInt64, process: String, index: UInt64, name: String, caller: String, count: Int)] = [:]
    var order: [String] = []
    for e in events {
      let key = "\(e.pid)\u{1}\(e.apiNumber)\u{1}\(e.caller ?? "")"
      if groups[key] == nil {
        order.append(key)
        groups[key] = (e.pid, e.process, e.apiNumber, e.name ?? "-", e.caller ?? "-", 0)
      }
      groups[key]?.count += 1
    }
    let rows = order.compactMap { groups[$0] }.sorted {
      $0.pid != $1.pid ? $0.pid < $1.pid : $0.index != $1.index ? $0.index < $1.index : $0.caller < $1.caller
    }
    var out = TextTable(
      headers: ["PID", "PROCESS", "INDEX", "CALLBACK", "CALLER", "HITS"],
      rows: rows.map { [String($0.pid), $0.process, String($0.index), $0.name, $0.caller, String($0.count)] }
    ).rendered()
    out += "\nSummary: \(reported) callbacks reported, \(filteredOut) filtered out, \(unreadable) unreadable, "
    out += "\(hits) hits in "
    out += String(format: "%.3f", seconds) + " s (\(stopReason))\n"
    out += TextTable(
      headers: ["INDEX", "CALLBACK", "CALLER", "COUNT"],
      rows: Self.counts(events).map { [String($0.index), $0.name ?? "-", $0.caller ?? "-", String($0.count)] }
    ).rendered()
    for warning in warnings { out += "warning: \(warning)\n" }
    return out
  }
}
