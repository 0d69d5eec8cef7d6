// `callscope callbacks --format html`: one self-contained HTML page (no network: styles and script
// inline, no fonts, images or links out) with a summary, a sortable and filterable table of every row
// and a per-module view. Every string from the image is HTML-escaped; no image data enters the script
// (the script only reads the already-escaped DOM), so nothing from the image is ever parsed as code.

import Analysis
import BinaryReading
import Callbacks
import WindowsKernel

/// The callbacks report as a self-contained HTML page.
public struct HTMLReport: Sendable {
  /// One callback row, as text (owner, details and flags already chosen for display).
  public struct Row: Sendable, Equatable {
    public var family: String
    public var index: Int?
    public var routine: UInt64
    /// The owning module's name, nil when the routine lies in no module.
    public var module: String?
    /// `module!symbol+0x…` or `module+0x…`, nil when the routine lies in no module.
    public var owner: String?
    public var flags: [String]
    public var details: String
    public var provenance: String

    public init(
      family: String, index: Int?, routine: UInt64, module: String?, owner: String?, flags: [String],
      details: String, provenance: String
    ) {
      self.family = family
      self.index = index
      self.routine = routine
      self.module = module
      self.owner = owner
      self.flags = flags
      self.details = details
      self.provenance = provenance
    }

    /// Whether any rule flagged the row.
    public var isFlagged: Bool { !flags.isEmpty }
  }

  /// The page title.
  public var title: String
  /// Facts about the image and kernel (label, value), shown at the top.
  public var facts: [(label: String, value: String)]
  public var rows: [Row]
  /// Families that were read (for counts of zero).
  public var familiesRead: [String]
  public var familyFindings: [FamilyFinding]
  public var notLocated: [(family: String, reason: String)]
  public var warnings: [String]

  /// A page from its parts.
  public init(
    title: String, facts: [(label: String, value: String)], rows: [Row], familiesRead: [String],
    familyFindings: [FamilyFinding], notLocated: [(family: String, reason: String)], warnings: [String]
  ) {
    self.title = title
    self.facts = facts
    self.rows = rows
    self.familiesRead = familiesRead
    self.familyFindings = familyFindings
    self.notLocated = notLocated
    self.warnings = warnings
  }

  /// The page of a callbacks report.
  public init(_ report: CallbacksReport) {
    let c = report.context
    var facts: [(label: String, value: String)] = [
      ("image", c.imagePath), ("format", c.imageFormat), ("size", String(c.imageSize)),
      ("arch", c.paging.architecture), ("paging", c.paging.rawValue), ("dtb", Hex.format(c.dtb)),
    ]
    if let kernel = c.kernel {
      facts.append(("kernel base", Hex.format(kernel.base)))
      facts.append(("pdb", "\(kernel.pdb.name) \(kernel.pdb.guid) \(kernel.pdb.age)"))
    }
    if let build = c.build { facts.append(("build", build)) }
    if let source = c.symbolSource { facts.append(("symbols", source)) }
    let name = c.imagePath.split(separator: "/").last.map(String.init) ?? c.imagePath
    self.init(
      title: "CallScope callbacks: \(name)", facts: facts,
      rows: report.rows.map { row in
        Row(
          family: row.entry.family, index: row.entry.index, routine: row.entry.routine,
          module: row.owner?.module.name, owner: row.owner.map { $0.symbol ?? $0.moduleOffsetText },
          flags: row.flags, details: CallbacksReport.summary(row.entry), provenance: row.entry.provenance.rawValue)
      },
      familiesRead: report.familiesRead, familyFindings: report.familyFindings, notLocated: report.notLocated,
      warnings: report.warnings)
  }

  /// The one-line explanation of a flag id, nil for ids that are not rules.
  static func explanation(_ flag: String) -> String? { Rule(rawValue: flag)?.explanation }

  /// The whole page.
  public func rendered() -> String {
    let flagged = rows.filter(\.isFlagged).count
    var html = """
      <!DOCTYPE html>
      <html lang="en">
      <head>
      <meta charset="utf-8">
      <meta http-equiv="Content-Security-Policy" content="\(Self.contentSecurityPolicy)">
      <meta name="viewport" content="width=device-width, initial-scale=1">
      <title>\(Self.escaped(title))</title>
      <style>\(Self.styleSheet)</style>
      </head>
      <body>
      <h1>\(Self.escaped(title))</h1>
      <p class="totals" id="totals">\(rows.count) callbacks, \
      <span class="\(flagged > 0 ? "bad" : "good")" id="flagged-count">\(flagged) flagged</span>, \
      \(familyFindings.count) family finding\(familyFindings.count == 1 ? "" : "s"), \
      \(notLocated.count) famil\(notLocated.count == 1 ? "y" : "ies") not located</p>

      """
    html += factsSection
    html += summarySection
    html += findingsSection
    html += tableSection
    html += moduleSection
    html += "<script>\(Self.script)</script>\n</body>\n</html>\n"
    return html
  }
}

extension CallbacksReport {
  /// The report as a self-contained HTML page.
  public var html: String { HTMLReport(self).rendered() }
}
