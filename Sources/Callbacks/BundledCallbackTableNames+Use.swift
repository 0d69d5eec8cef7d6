// Using the bundled apfnDispatch names: choosing the table of a build, naming an expectation that
// has no PDB names, and comparing a PDB's names with the bundled ones (the PDB wins; every
// disagreement becomes a warning).

extension BundledCallbackTableNames {
  /// The label of names taken from a bundled table, in table and JSON output.
  public static let label = "bundled-names"

  /// The bundled table whose build range holds `build`, or nil.
  public static func layout(forBuild build: Int) -> BundledCallbackTableLayout? {
    layouts.first { $0.builds.contains(build) }
  }

  /// Whether the bundled name of a slot agrees with the PDB's names of that slot: equal to one of
  /// them, or equal once the suffix a listing adds to tell repeated routines apart (trailing digits
  /// or `_`: `__fnEMPTY1`, `__fnINOUTLPPOINT5_`) is dropped character by character.
  public static func agrees(_ bundled: String, with pdbNames: [String]) -> Bool {
    let names = Set(pdbNames)
    var candidate = Substring(bundled)
    while true {
      if names.contains(String(candidate)) { return true }
      guard let last = candidate.last, last == "_" || last.isASCII && last.isNumber else { return false }
      candidate = candidate.dropLast()
    }
  }

  /// The ranges of all bundled tables, for messages (`19041-19045, 26100`).
  static var coveredBuilds: String {
    layouts.map { $0.builds.count == 1 ? "\($0.builds.lowerBound)" : "\($0.builds.lowerBound)-\($0.builds.upperBound)" }
      .joined(separator: ", ")
  }
}

extension ExpectedCallbackTable {
  /// Applies the bundled table of `build` (0 or nil: unknown) and returns the warnings to report.
  /// With PDB names (`nameSource == "pdb"`) the PDB's names stay and each slot where the bundled
  /// table disagrees is reported; without names the bundled names are used, labelled
  /// `bundled-names`. A table whose length differs from the bundled one is reported too.
  public mutating func applyBundledNames(build: Int?) -> [String] {
    guard let build, build > 0 else {
      return nameSource == "pdb" ? [] : ["Windows build unknown: no bundled apfnDispatch names apply"]
    }
    guard let layout = BundledCallbackTableNames.layout(forBuild: build) else {
      return nameSource == "pdb"
        ? []
        : [
          "no bundled apfnDispatch names for build \(build) (bundled: \(BundledCallbackTableNames.coveredBuilds)); "
            + "put user32.pdb on the symbol path to name the slots"
        ]
    }
    bundledTable = layout.id
    var warnings: [String] = []
    let what = "\(BundledCallbackTableNames.label) table \(layout.id)"
    if slots.count != layout.names.count {
      warnings.append(
        "user32's apfnDispatch has \(slots.count) slots; \(what) (builds \(layout.builds.lowerBound)-"
          + "\(layout.builds.upperBound)) lists \(layout.names.count)")
    }
    let common = min(slots.count, layout.names.count)
    if nameSource == "pdb" {
      for index in 0..<common {
        let pdbNames = names[index] ?? []
        guard !BundledCallbackTableNames.agrees(layout.names[index], with: pdbNames) else { continue }
        let pdbText = pdbNames.isEmpty ? "no public" : pdbNames.joined(separator: ", ")
        warnings.append(
          "slot \(index): user32.pdb names \(pdbText); \(what) names \(layout.names[index]) (the PDB's names are used)")
      }
    } else {
      for index in 0..<common { names[index] = [layout.names[index]] }
      nameSource = BundledCallbackTableNames.label
    }
    return warnings
  }
}
