// One callback routine found in the image, before owner resolution and verdicts.

import Symbols

/// A family-specific detail value.
public enum DetailValue: Sendable, Hashable {
  case string(String)
  case int(Int64)
  case address(UInt64)
  case bool(Bool)
  case null
}

/// A registered routine: where it was found and what it is.
public struct CallbackEntry: Sendable, Hashable {
  /// Family id from DESIGN.md (`process-notify`, `registry`, …).
  public var family: String
  /// Address of the list head / array / table the entry hangs from.
  public var head: UInt64
  /// The kernel variable (or object) naming the head.
  public var headSymbol: String
  /// Slot index for arrays and tables, position for lists.
  public var index: Int?
  /// The raw value stored in the slot (e.g. an EX_FAST_REF) where one exists.
  public var rawValue: UInt64?
  /// The routine the kernel will call.
  public var routine: UInt64
  /// The structure that holds the registration (callback block, packet, registration record).
  public var object: UInt64?
  /// Family-specific details, in display order.
  public var details: [(String, DetailValue)]
  /// How the head was located: `pdb`, `isf`, `bundled`, `pattern`.
  public var provenance: Provenance
  /// Image names (lowercase, `ntoskrnl.exe`) the routine belongs in, when the slot has an owner by
  /// design (a service table, a driver's own dispatch table); empty when any module may register.
  /// A routine outside them is flagged `outside-expected-module`.
  public var expectedOwners: [String] = []
  /// Flags the reader raised from the record itself (ids of the family descriptor's rules).
  public var flags: [String] = []
  /// The routine is a user-mode address of one process (its family judged it against that
  /// process's modules): kernel modules do not own it and its prologue is not read.
  public var userMode = false

  public init(
    family: String, head: UInt64, headSymbol: String, index: Int?, rawValue: UInt64? = nil, routine: UInt64,
    object: UInt64? = nil, details: [(String, DetailValue)] = [], provenance: Provenance
  ) {
    self.family = family
    self.head = head
    self.headSymbol = headSymbol
    self.index = index
    self.rawValue = rawValue
    self.routine = routine
    self.object = object
    self.details = details
    self.provenance = provenance
  }

  public static func == (a: CallbackEntry, b: CallbackEntry) -> Bool {
    a.family == b.family && a.head == b.head && a.index == b.index && a.routine == b.routine && a.object == b.object
      && a.details.map(\.0) == b.details.map(\.0) && a.details.map(\.1) == b.details.map(\.1)
  }

  public func hash(into hasher: inout Hasher) {
    hasher.combine(family)
    hasher.combine(head)
    hasher.combine(index)
    hasher.combine(routine)
    hasher.combine(object)
  }

  /// A detail by key.
  public func detail(_ key: String) -> DetailValue? { details.first { $0.0 == key }?.1 }
}

/// What one family produced: entries, warnings about broken parts, or why it was not located.
public struct FamilyResult: Sendable {
  public var family: String
  public var entries: [CallbackEntry]
  public var warnings: [String]
  /// Set when the family's head could not be located (e.g. symbol missing); entries are then empty.
  public var notLocated: String?
  /// Findings about the family as a whole that its reader made (a rule id of its descriptor, the evidence).
  public var findings: [(rule: String, detail: String)] = []
  /// Heads the reader located in other modules (fltmgr!FltGlobals), with their evidence.
  public var moduleHeads: [ModuleHead] = []

  public init(family: String, entries: [CallbackEntry] = [], warnings: [String] = [], notLocated: String? = nil) {
    self.family = family
    self.entries = entries
    self.warnings = warnings
    self.notLocated = notLocated
  }
}
