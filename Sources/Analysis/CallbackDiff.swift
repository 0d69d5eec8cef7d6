// Compares the callbacks of two snapshots of a system (`callscope diff`): what was added, removed,
// and what kept its registration but changed (flags, enabled, altitude, patched prologue, …).
//
// Matching, in order (each row is used once):
//  1. (family, module, offset in module) — a routine keeps its offset when the system is only
//     rebooted, so a different load address (KASLR) is not a change;
//  2. (family, module, registration identity: slot index and the family's naming details such as
//     altitude, component, object name, pre/post) — for a module whose build differs between the
//     snapshots, where the same registration sits at another offset;
//  3. rows in no module: (family, routine address); otherwise they are added / removed.
// Addresses are never compared (they move with KASLR and pool layout); the offset is the key, not
// a compared value.

/// A callback present in both snapshots whose flags or details differ.
public struct CallbackChange: Sendable, Hashable {
  public var before: CallbackDiffRow
  public var after: CallbackDiffRow
  /// One line per difference, e.g. `flag +patched-prologue`, `enabled: 1 → 0`.
  public var changes: [String]
}

/// The difference between a baseline and a current set of callbacks.
public struct CallbackDiff: Sendable {
  public var added: [CallbackDiffRow]
  public var removed: [CallbackDiffRow]
  public var changed: [CallbackChange]
  /// Positions in `current` of the added rows, in `baseline` of the removed ones, and the pairs of
  /// the changed ones (for callers that keep richer rows beside the diff rows, e.g. `watch`).
  public var addedIndices: [Int]
  public var removedIndices: [Int]
  public var changedIndices: [(baseline: Int, current: Int)]

  /// Whether anything was added or changed (what `--fail-on-findings` reports).
  public var hasFindings: Bool { !added.isEmpty || !changed.isEmpty }
  /// Whether the two snapshots hold the same callbacks.
  public var isEmpty: Bool { added.isEmpty && removed.isEmpty && changed.isEmpty }

  /// Details that name a registration within its module (stable across builds of the module).
  static let identityKeys: [String] = [
    "routineKind", "object", "name", "index", "altitude", "component", "componentName", "reason", "reasonName", "guid",
    "classGuid", "eventCategory", "driverName", "hostId", "flavour",
  ]

  /// Diffs `current` against `baseline`.
  public init(baseline: [CallbackDiffRow], current: [CallbackDiffRow]) {
    var unmatchedBefore = Array(baseline.indices)
    var unmatchedAfter = Array(current.indices)
    var pairs: [(Int, Int)] = []

    func match(_ key: (CallbackDiffRow) -> String?) {
      var pool: [String: [Int]] = [:]
      for i in unmatchedBefore { if let k = key(baseline[i]) { pool[k, default: []].append(i) } }
      var usedBefore = Set<Int>()
      var remainingAfter: [Int] = []
      for j in unmatchedAfter {
        if let k = key(current[j]), var candidates = pool[k], !candidates.isEmpty {
          let i = candidates.removeFirst()
          pool[k] = candidates
          usedBefore.insert(i)
          pairs.append((i, j))
        } else {
          remainingAfter.append(j)
        }
      }
      unmatchedBefore.removeAll { usedBefore.contains($0) }
      unmatchedAfter = remainingAfter
    }

    match { row in
      guard let module = row.module, let offset = row.offset else { return nil }
      return "\(row.family)|\(module.lowercased())|\(offset)"
    }
    match { row in
      guard let module = row.module else { return nil }
      return "\(row.family)|\(module.lowercased())|\(Self.identity(row))"
    }
    match { row in row.module == nil ? "\(row.family)|\(row.routine)" : nil }

    var changed: [CallbackChange] = []
    var changedIndices: [(baseline: Int, current: Int)] = []
    for (i, j) in pairs.sorted(by: { $0.1 < $1.1 }) {
      let changes = Self.changes(baseline[i], current[j])
      if !changes.isEmpty {
        changed.append(CallbackChange(before: baseline[i], after: current[j], changes: changes))
        changedIndices.append((i, j))
      }
    }
    self.added = unmatchedAfter.map { current[$0] }
    self.removed = unmatchedBefore.map { baseline[$0] }
    self.changed = changed
    self.addedIndices = unmatchedAfter
    self.removedIndices = unmatchedBefore
    self.changedIndices = changedIndices
  }

  /// Slot index and naming details, as text.
  static func identity(_ row: CallbackDiffRow) -> String {
    var parts = [row.index.map { "#\($0)" } ?? "#-"]
    for key in identityKeys {
      if let value = row.details[key], !value.isAddress { parts.append("\(key)=\(value)") }
    }
    return parts.joined(separator: "|")
  }

  /// What differs between two matched rows.
  static func changes(_ a: CallbackDiffRow, _ b: CallbackDiffRow) -> [String] {
    var out: [String] = []
    let flagsA = Set(a.flags)
    let flagsB = Set(b.flags)
    for flag in b.flags where !flagsA.contains(flag) { out.append("flag +\(flag)") }
    for flag in a.flags where !flagsB.contains(flag) { out.append("flag -\(flag)") }
    let da = a.comparableDetails
    let db = b.comparableDetails
    for key in Set(da.keys).union(db.keys).sorted() where da[key] != db[key] {
      out.append("\(key): \(da[key]?.description ?? "-") → \(db[key]?.description ?? "-")")
    }
    return out
  }
}
