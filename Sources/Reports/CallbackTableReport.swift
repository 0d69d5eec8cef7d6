// `callscope kct`: per-process KernelCallbackTable rows, and `--map` (ApiNumber → __fnXXX).

import BinaryReading
import Callbacks
import WindowsKernel

/// The KernelCallbackTable report.
public struct CallbackTableReport: Sendable {
  public var context: ReportContext
  public var processes: [ProcessCallbackTable]
  public var expected: ExpectedCallbackTable?
  public var warnings: [String]

  public init(
    context: ReportContext, processes: [ProcessCallbackTable], expected: ExpectedCallbackTable?, warnings: [String]
  ) {
    self.context = context
    self.processes = processes
    self.expected = expected
    self.warnings = warnings
  }

  static func slotJSON(_ s: CallbackTableSlot) -> JSONValue {
    .object([
      ("index", .int(Int64(s.index))), ("routine", .address(s.routine)), ("name", .string(s.name)),
      ("names", .array(s.names.map { .string($0) })), ("module", .string(s.module)),
      ("flags", .array(s.flags.map { .string($0) })),
    ])
  }

  static func processJSON(_ p: ProcessCallbackTable, allSlots: Bool) -> JSONValue {
    let slots = allSlots ? p.slots : p.slots.filter { !$0.flags.isEmpty }
    // `wow64: true` only on the rows of a WOW64 process's 32-bit PEB (native rows keep their shape).
    let wow64: [(String, JSONValue)] = p.wow64 ? [("wow64", .bool(true))] : []
    return .object(
      [
        ("pid", .int(Int64(clamping: p.process.pid))), ("name", .string(p.process.name)),
      ] + wow64 + [
        ("table", .address(p.table)),
        ("expected", p.expected.map { .address($0) } ?? .null),
        (
          "user32",
          p.user32.map {
            .object([("base", .address($0.base)), ("size", .address($0.size)), ("source", .string($0.source))])
          } ?? .null
        ),
        ("flags", .array(p.flags.map { .string($0) })),
        ("slots", .array(slots.map(slotJSON))),
        ("warnings", .array(p.warnings.map { .string($0) })),
      ])
  }

  /// The process name, marked `(wow64)` on a WOW64 process's 32-bit row (table and CSV output).
  static func displayName(_ p: ProcessCallbackTable) -> String {
    p.wow64 ? p.process.name + " (wow64)" : p.process.name
  }

  /// Whether anything is flagged.
  public var hasFindings: Bool { processes.contains { !$0.flags.isEmpty || $0.slots.contains { !$0.flags.isEmpty } } }

  /// The per-process report.
  public func rendered(_ format: OutputFormat) -> String {
    let expectedJSON: JSONValue =
      expected.map {
        .object([
          ("address", .address($0.address)), ("slots", .int(Int64($0.slots.count))), ("source", .string($0.source)),
          ("nameSource", .string($0.nameSource)), ("bundledTable", .string($0.bundledTable)),
        ])
      } ?? .null
    switch format {
    case .json:
      var members = context.header
      members.append(("expected", expectedJSON))
      members.append(("kct", .array(processes.map { Self.processJSON($0, allSlots: true) })))
      members.append(("warnings", .array(warnings.map { .string($0) })))
      return JSONValue.object(members).serialized() + "\n"
    case .jsonl:
      return processes.map { Self.processJSON($0, allSlots: true).serialized(pretty: false) + "\n" }.joined()
    case .csv:
      var lines = [CSV.line(["pid", "name", "table", "expected", "index", "routine", "slotName", "module", "flags"])]
      for p in processes {
        for s in p.slots {
          lines.append(
            CSV.line([
              String(p.process.pid), Self.displayName(p), Hex.format(p.table), p.expected.map(Hex.format) ?? "",
              String(s.index),
              Hex.format(s.routine), s.name ?? "", s.module ?? "", (p.flags + s.flags).joined(separator: "|"),
            ]))
        }
      }
      return lines.joined(separator: "\n") + "\n"
    case .table, .html:
      var text = ""
      if let e = expected {
        text +=
          "expected table: \(Hex.format(e.address)) (\(e.slots.count) slots, from \(e.source == "pdb" ? "user32's PDB" : "the value most GUI processes share"))\n"
      } else {
        text += "expected table: unknown (no user32 PDB and no GUI process with user32)\n"
      }
      let rows = processes.map { p -> [String] in
        if p.table == 0 { return [String(p.process.pid), Self.displayName(p), "unreadable", "", "see warning"] }
        let bad = p.slots.filter { !$0.flags.isEmpty }
        let slotText = bad.prefix(4).map {
          "[\($0.index)\($0.name.map { " " + $0 } ?? "")] \(Hex.format($0.routine)) \($0.flags.joined(separator: ","))"
        }
        .joined(separator: "; ")
        return [
          String(p.process.pid), Self.displayName(p), Hex.format(p.table), p.flags.joined(separator: ","),
          bad.isEmpty ? "ok" : "\(bad.count) slot(s): " + slotText,
        ]
      }
      text += TextTable(headers: ["pid", "name", "table", "flags", "slots"], rows: rows).rendered()
      for w in warnings { text += "warning: \(w)\n" }
      for p in processes { for w in p.warnings { text += "warning: pid \(p.process.pid) \(p.process.name): \(w)\n" } }
      return text
    }
  }

  /// `--map`: the index → name table of the image's build. Names from the bundled table carry the
  /// label `bundled-names` (JSON `nameSource`, the table's `source` column); warnings (a bundled table
  /// that disagrees with the PDB, a build no bundled table covers) follow as in `rendered`.
  public func renderedMap(_ format: OutputFormat) -> String {
    guard let e = expected else { return format == .json ? "{\"map\": []}\n" : "no expected table\n" }
    let rows = e.slots.enumerated().map { (i, routine) in (i, routine, e.names[i] ?? []) }
    let source = { (names: [String]) in names.isEmpty ? nil : e.nameSource }
    switch format {
    case .json, .jsonl:
      let items = rows.map {
        JSONValue.object([
          ("index", .int(Int64($0.0))), ("routine", .address($0.1)), ("name", .string($0.2.first)),
          ("names", .array($0.2.map { .string($0) })), ("nameSource", .string(source($0.2))),
        ])
      }
      if format == .jsonl { return items.map { $0.serialized(pretty: false) + "\n" }.joined() }
      var members = context.header
      members.append(("table", .address(e.address)))
      members.append(("source", .string(e.source)))
      members.append(("nameSource", .string(e.nameSource)))
      members.append(("bundledTable", .string(e.bundledTable)))
      members.append(("map", .array(items)))
      members.append(("warnings", .array(warnings.map { .string($0) })))
      return JSONValue.object(members).serialized() + "\n"
    case .csv:
      return
        ([CSV.line(["index", "routine", "name", "nameSource"])]
        + rows.map {
          CSV.line([String($0.0), Hex.format($0.1), $0.2.joined(separator: "|"), source($0.2) ?? ""])
        })
        .joined(separator: "\n") + "\n"
    case .table, .html:
      var text = TextTable(
        headers: ["index", "hex", "routine", "name", "source"],
        rows: rows.map {
          [
            String($0.0), Hex.format(UInt64($0.0)), Hex.format($0.1),
            $0.2.isEmpty ? "-" : $0.2.joined(separator: ", "), source($0.2) ?? "-",
          ]
        }
      ).rendered()
      for w in warnings { text += "warning: \(w)\n" }
      return text
    }
  }
}
