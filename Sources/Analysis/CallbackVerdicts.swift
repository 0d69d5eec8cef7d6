// Applies the rules to collected callbacks: owner resolution (listed modules, then driver objects
// and carved loader entries), patched prologues, counters versus slots, broken lists.

import AddressSpace
import BinaryReading
import Callbacks
import Symbols
import WindowsKernel

/// A callback with its owner and flags.
public struct CallbackRow: Sendable {
  public var entry: CallbackEntry
  public var owner: Owner?
  public var flags: [String]
  /// First bytes of the routine (for patched-prologue evidence), when readable.
  public var prologue: [UInt8]?

  public init(entry: CallbackEntry, owner: Owner?, flags: [String], prologue: [UInt8]? = nil) {
    self.entry = entry
    self.owner = owner
    self.flags = flags
    self.prologue = prologue
  }
}

/// The analysed callbacks of one image.
public struct CallbackVerdicts: Sendable {
  public var rows: [CallbackRow]
  public var familyFindings: [FamilyFinding]
  /// What the rules could not check: an unreadable counter, routines whose first bytes are unreadable.
  public var warnings: [String] = []

  /// The rules the record itself breaks, from its details: an object callback with Enabled = 0
  /// or on a type whose SupportsObjectCallbacks bit is clear, a carved block no head links.
  public static func recordRules(_ entry: CallbackEntry) -> [Rule] {
    func detail(_ key: String) -> DetailValue? { entry.details.first { $0.0 == key }?.1 }
    var rules: [Rule] = []
    if entry.family.hasPrefix("object-"), detail("enabled") == .bool(false) { rules.append(.disabled) }
    if detail("supportsObjectCallbacks") == .bool(false) { rules.append(.callbacksUnsupported) }
    if detail("carve") == .string("orphaned") { rules.append(.orphaned) }
    return rules
  }

  /// Counters the kernel keeps beside its notify arrays (name → families they count).
  static let counters: [(family: String, symbols: [String])] = [
    ("process-notify", ["PspCreateProcessNotifyRoutineCount", "PspCreateProcessNotifyRoutineExCount"]),
    ("thread-notify", ["PspCreateThreadNotifyRoutineCount", "PspCreateThreadNotifyRoutineNonSystemCount"]),
    ("image-notify", ["PspLoadImageNotifyRoutineCount"]),
  ]

  /// Analyses `results`. `modules` are PsLoadedModuleList's; `hidden` are driver-object and carved
  /// images that the list lacks.
  public init(
    results: [FamilyResult], kernel: Kernel, modules: [LoadedModule], hidden: [LoadedModule],
    symbolizers: [String: ModuleSymbolizer] = [:]
  ) {
    let resolver = OwnerResolver(
      modules: modules + hidden, symbolizers: symbolizers.mapValues { s in { @Sendable rva in s.nearest(rva) } })
    var rows: [CallbackRow] = []
    var findings: [FamilyFinding] = []
    var warnings: [String] = []
    var unreadablePrologues: [String: [UInt64]] = [:]
    for result in results where result.notLocated == nil {
      for entry in result.entries {
        var flags = Self.recordRules(entry).map(\.rawValue)
        // A user-mode routine (a process's instrumentation callback) belongs to that process's
        // modules, which its family judged; kernel modules and kernel-space prologues do not apply.
        let userMode = entry.userMode
        let owner = userMode ? nil : resolver.owner(of: entry.routine)
        if owner == nil, !userMode { flags.append(Rule.outsideModules.rawValue) }
        if let owner, owner.module.origin != .loadedModuleList { flags.append(Rule.unlinkedModule.rawValue) }
        if !entry.expectedOwners.isEmpty, !entry.expectedOwners.contains(owner?.module.name.lowercased() ?? "") {
          flags.append(Rule.outsideExpectedModule.rawValue)
        }
        flags += entry.flags.filter { !flags.contains($0) }
        var prologue: [UInt8]?
        if !userMode {
          do { prologue = try kernel.read(entry.routine, count: 16) } catch {
            unreadablePrologues[entry.family, default: []].append(entry.routine)
          }
        }
        if let prologue, PrologueCheck.match(prologue) != nil { flags.append(Rule.patchedPrologue.rawValue) }
        rows.append(CallbackRow(entry: entry, owner: owner, flags: flags, prologue: prologue))
      }
      for finding in result.findings {
        guard let rule = Rule(rawValue: finding.rule) else { continue }  // a descriptor declares each rule it raises
        findings.append(FamilyFinding(family: result.family, rule: rule, detail: finding.detail))
      }
      for warning in result.warnings where warning.contains("is broken") || warning.contains("loops") {
        findings.append(FamilyFinding(family: result.family, rule: .listCorrupt, detail: warning))
      }
    }
    for (family, symbols) in Self.counters {
      guard results.contains(where: { $0.family == family && $0.notLocated == nil }) else { continue }
      // Without a symbol file a counter the locators did not find would make the sum wrong: check
      // only when every counter of the family was located.
      if kernel.profile is LocatedProfile, !symbols.allSatisfy({ kernel.hasSymbol($0) }) { continue }
      var total: UInt64 = 0
      var known = false
      var unreadable: String?
      // A counter the build lacks counts nothing; one it has but that cannot be read voids the check.
      for symbol in symbols where kernel.hasSymbol(symbol) {
        do {
          total &+= try kernel.readUnsigned(try kernel.address(of: symbol), width: 4)
          known = true
        } catch {
          unreadable = "\(symbol): \(error)"
        }
      }
      if let unreadable {
        warnings.append("\(family): counter not checked against the slots: \(unreadable)")
        continue
      }
      let present = rows.filter { $0.entry.family == family }.count
      if known, total != UInt64(present) {
        findings.append(
          FamilyFinding(
            family: family, rule: .countMismatch,
            detail: "\(symbols.joined(separator: " + ")) = \(total), but \(present) slot(s) hold a routine"))
      }
    }
    for (family, routines) in unreadablePrologues.sorted(by: { $0.key < $1.key }) {
      let shown = routines.prefix(4).map { Hex.format($0) }.joined(separator: ", ")
      warnings.append(
        "\(family): patched-prologue not checked for \(routines.count) routine(s) whose first bytes are unreadable: "
          + shown + (routines.count > 4 ? ", …" : ""))
    }
    self.rows = rows
    self.familyFindings = findings
    self.warnings = warnings
  }
}
