// One callback as the diff sees it: the parts of a callback row (DESIGN.md "A callback row") that
// survive a reboot or another load address, built either from an analysed row or from a saved
// `callscope callbacks --format json` report, so both kinds of input compare alike.

import BinaryReading
import Callbacks

/// A detail value with addresses already turned into `0x…` text (as in the JSON schema).
public enum DiffValue: Sendable, Hashable, CustomStringConvertible {
  case text(String)
  case number(Int64)
  case bool(Bool)
  case null

  /// The value as a table shows it.
  public var description: String {
    switch self {
    case .text(let s): return s
    case .number(let n): return String(n)
    case .bool(let b): return b ? "true" : "false"
    case .null: return "null"
    }
  }

  /// Whether the value is an address (`0x…`): it moves with the load address, so never compared.
  public var isAddress: Bool {
    if case .text(let s) = self { return s.hasPrefix("0x") }
    return false
  }
}

/// A callback reduced to what the diff matches and compares.
public struct CallbackDiffRow: Sendable, Hashable {
  /// Family id (`process-notify`, …).
  public var family: String
  /// Slot or list position, when the family has one.
  public var index: Int?
  /// Virtual address of the routine.
  public var routine: UInt64
  /// Owning module's name, nil when the routine lies in no module.
  public var module: String?
  /// Offset of the routine from the owning module's base.
  public var offset: UInt64?
  /// `module!symbol+0x…` or `module+0x…`, when owned.
  public var symbol: String?
  /// Verdict flags (`patched-prologue`, `disabled`, …).
  public var flags: [String]
  /// Family-specific details by key.
  public var details: [String: DiffValue]

  public init(
    family: String, index: Int?, routine: UInt64, module: String?, offset: UInt64?, symbol: String?,
    flags: [String], details: [String: DiffValue]
  ) {
    self.family = family
    self.index = index
    self.routine = routine
    self.module = module
    self.offset = offset
    self.symbol = symbol
    self.flags = flags
    self.details = details
  }

  /// The row of an analysed callback, with the same details a JSON report carries for it
  /// (`Reports.CallbacksReport.rowJSON`): the entry's details, the object address and, for a patched
  /// prologue, the matched bytes and pattern.
  public init(row: CallbackRow) {
    let e = row.entry
    var details: [String: DiffValue] = [:]
    for (key, value) in e.details { details[key] = Self.value(value) }
    if let object = e.object { details["objectAddress"] = .text(Hex.format(object)) }
    if row.flags.contains(Rule.patchedPrologue.rawValue), let bytes = row.prologue, let m = PrologueCheck.match(bytes) {
      details["prologue"] = .text(m.bytes.map { Self.hexByte($0) }.joined(separator: " "))
      details["prologuePattern"] = .text(m.pattern)
    }
    self.init(
      family: e.family, index: e.index, routine: e.routine, module: row.owner?.module.name, offset: row.owner?.offset,
      symbol: row.owner.map { $0.symbol ?? $0.moduleOffsetText }, flags: row.flags, details: details)
  }

  static func value(_ value: DetailValue) -> DiffValue {
    switch value {
    case .string(let s): return .text(s)
    case .int(let i): return .number(i)
    case .address(let a): return .text(Hex.format(a))
    case .bool(let b): return .bool(b)
    case .null: return .null
    }
  }

  static func hexByte(_ byte: UInt8) -> String {
    let s = String(byte, radix: 16)
    return s.count == 1 ? "0" + s : s
  }

  /// Details compared between matched rows: everything but addresses (they move with KASLR and
  /// pool layout) and the object's own address.
  public var comparableDetails: [String: DiffValue] {
    details.filter { $0.key != "objectAddress" && !$0.value.isAddress }
  }

  /// `module+0x…` or, in no module, the routine's address.
  public var location: String {
    if let module, let offset { return "\(module)+\(Hex.format(offset))" }
    return Hex.format(routine)
  }
}
