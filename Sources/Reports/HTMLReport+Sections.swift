// The parts of the HTML callbacks page: facts, summary (counts by family and by flag with the rules'
// explanations), family findings and families not located, the row table, and the per-module view.
// Every value from the image goes through `escaped`.

import Analysis
import BinaryReading

extension HTMLReport {
  /// What a module group is called when the routine lies in no module.
  public static let noModule = "(no module)"

  var factsSection: String {
    var html = "<section id=\"facts\"><h2>Image</h2><dl class=\"facts\">\n"
    for fact in facts {
      html += "<dt>\(Self.escaped(fact.label))</dt><dd>\(Self.escaped(fact.value))</dd>\n"
    }
    return html + "</dl></section>\n"
  }

  /// Families in report order: those read first, then any others rows name.
  var familyOrder: [String] {
    var order = familiesRead
    var seen = Set(order)
    for row in rows where !seen.contains(row.family) {
      order.append(row.family)
      seen.insert(row.family)
    }
    return order
  }

  var summarySection: String {
    var byFamily: [String: (total: Int, flagged: Int)] = [:]
    for row in rows {
      var c = byFamily[row.family] ?? (0, 0)
      c.total += 1
      if row.isFlagged { c.flagged += 1 }
      byFamily[row.family] = c
    }
    var html = "<section id=\"summary\"><h2>Summary</h2><div class=\"cols\">\n"
    html += "<table class=\"counts\" id=\"by-family\"><thead><tr><th>family</th><th>rows</th><th>flagged</th>"
    html += "</tr></thead><tbody>\n"
    for family in familyOrder {
      let c = byFamily[family] ?? (0, 0)
      html += "<tr class=\"\(c.flagged > 0 ? "flagged" : "")\" data-family=\"\(Self.escaped(family))\">"
      html += "<td>\(Self.escaped(family))</td><td>\(c.total)</td><td>\(c.flagged)</td></tr>\n"
    }
    html += "</tbody></table>\n"
    var byFlag: [String: Int] = [:]
    var flagOrder: [String] = []
    for flag in rows.flatMap(\.flags) + familyFindings.map(\.rule.rawValue) {
      if byFlag[flag] == nil { flagOrder.append(flag) }
      byFlag[flag, default: 0] += 1
    }
    let known = Rule.allCases.map(\.rawValue).filter { byFlag[$0] != nil }
    let ordered = known + flagOrder.filter { !known.contains($0) }
    html += "<table class=\"counts\" id=\"by-flag\"><thead><tr><th>flag</th><th>count</th><th>meaning</th>"
    html += "</tr></thead><tbody>\n"
    if ordered.isEmpty { html += "<tr><td colspan=\"3\" class=\"good\">nothing flagged</td></tr>\n" }
    for flag in ordered {
      html += "<tr data-flag=\"\(Self.escaped(flag))\"><td><span class=\"flag\">\(Self.escaped(flag))</span></td>"
      html += "<td>\(byFlag[flag] ?? 0)</td><td>\(Self.escaped(Self.explanation(flag) ?? "-"))</td></tr>\n"
    }
    return html + "</tbody></table>\n</div></section>\n"
  }

  var findingsSection: String {
    var html = "<section id=\"findings\"><h2>Family findings</h2>\n"
    if familyFindings.isEmpty {
      html += "<p class=\"good\">none</p>\n"
    } else {
      html += "<ul class=\"findings\">\n"
      for f in familyFindings {
        html += "<li class=\"flagged\" data-family=\"\(Self.escaped(f.family))\" data-flag=\"\(f.rule.rawValue)\">"
        html += "<b>\(Self.escaped(f.family))</b> <span class=\"flag\" title=\"\(Self.escaped(f.rule.explanation))\">"
        html += "\(f.rule.rawValue)</span> \(Self.escaped(f.detail))</li>\n"
      }
      html += "</ul>\n"
    }
    html += "<h2>Not located</h2>\n"
    if notLocated.isEmpty {
      html += "<p>none</p>\n"
    } else {
      html += "<ul class=\"not-located\">\n"
      for n in notLocated {
        html += "<li data-family=\"\(Self.escaped(n.family))\"><b>\(Self.escaped(n.family))</b>: "
        html += "\(Self.escaped(n.reason))</li>\n"
      }
      html += "</ul>\n"
    }
    let empty = familiesRead.filter { family in !rows.contains { $0.family == family } }
    if !empty.isEmpty {
      html += "<p class=\"empty\">no entries: \(empty.map(Self.escaped).joined(separator: ", "))</p>\n"
    }
    if !warnings.isEmpty {
      html += "<h2>Warnings</h2><ul class=\"warnings\">\n"
      for w in warnings { html += "<li>\(Self.escaped(w))</li>\n" }
      html += "</ul>\n"
    }
    return html + "</section>\n"
  }

  static let columns = ["family", "index", "routine", "owner", "flags", "details", "provenance"]

  /// One `<tr>`: data attributes for the script and tests, a sort key per cell.
  func rowHTML(_ row: Row) -> String {
    let flags = row.flags.map { flag in
      "<span class=\"flag\" title=\"\(Self.escaped(Self.explanation(flag) ?? flag))\">\(Self.escaped(flag))</span>"
    }.joined(separator: " ")
    let index = row.index.map(String.init) ?? "-"
    let cells: [(key: String, html: String)] = [
      (Self.escaped(row.family), Self.escaped(row.family)),
      (row.index.map { Self.sortKey(UInt64(clamping: $0)) } ?? "", index),
      (Self.sortKey(row.routine), Hex.format(row.routine)),
      (Self.escaped(row.owner ?? Self.noModule), row.owner.map(Self.escaped) ?? "<i>\(Self.noModule)</i>"),
      (Self.escaped(row.flags.joined(separator: ",")), flags),
      (Self.escaped(row.details), Self.escaped(row.details)),
      (Self.escaped(row.provenance), Self.escaped(row.provenance)),
    ]
    var html = "<tr class=\"row\(row.isFlagged ? " flagged" : "")\" data-family=\"\(Self.escaped(row.family))\""
    html +=
      " data-routine=\"\(Hex.format(row.routine))\" data-flags=\"\(Self.escaped(row.flags.joined(separator: ",")))\""
    html += " data-module=\"\(Self.escaped(row.module ?? Self.noModule))\">"
    for cell in cells { html += "<td data-sort=\"\(cell.key)\">\(cell.html)</td>" }
    return html + "</tr>\n"
  }

  func tableHTML(id: String, rows: [Row]) -> String {
    var html = "<table class=\"rows\" id=\"\(id)\"><thead><tr>"
    for (i, column) in Self.columns.enumerated() {
      html += "<th data-col=\"\(i)\" tabindex=\"0\" title=\"click to sort\">\(column)</th>"
    }
    html += "</tr></thead><tbody>\n"
    for row in rows { html += rowHTML(row) }
    return html + "</tbody></table>\n"
  }

  var tableSection: String {
    var html = "<section id=\"callbacks\"><h2>Callbacks</h2>\n<div class=\"controls\">"
    html += "<label>filter <input type=\"search\" id=\"filter\" placeholder=\"text in any column\"></label> "
    html += "<label><input type=\"checkbox\" id=\"flagged-only\"> flagged only</label> "
    html += "<output id=\"shown\">\(rows.count) of \(rows.count) rows</output></div>\n"
    return html + tableHTML(id: "all-rows", rows: rows) + "</section>\n"
  }

  var moduleSection: String {
    // Keyed by the optional name, so a module that calls itself "(no module)" is not merged with
    // routines that lie in no module.
    var groups: [String?: [Row]] = [:]
    for row in rows { groups[row.module, default: []].append(row) }
    // Rows in no module first (the most telling), then modules with flagged rows, then by name.
    let names = groups.keys.sorted { a, b in
      if (a == nil) != (b == nil) { return a == nil }
      let fa = groups[a]?.contains(where: \.isFlagged) ?? false
      let fb = groups[b]?.contains(where: \.isFlagged) ?? false
      if fa != fb { return fa }
      return (a ?? "").lowercased() < (b ?? "").lowercased()
    }
    var html = "<section id=\"modules\"><h2>By module</h2>\n"
    for (i, name) in names.enumerated() {
      let group = groups[name] ?? []
      let flagged = group.filter(\.isFlagged).count
      let label = Self.escaped(name ?? Self.noModule)
      html += "<details class=\"module\(flagged > 0 ? " flagged" : "")\" open data-module=\"\(label)\">"
      html +=
        "<summary><b>\(name == nil ? "<i>\(label)</i>" : label)</b> \(group.count) row\(group.count == 1 ? "" : "s")"
      html += flagged > 0 ? ", <span class=\"bad\">\(flagged) flagged</span>" : ""
      html += "</summary>\n" + tableHTML(id: "module-\(i)", rows: group) + "</details>\n"
    }
    return html + "</section>\n"
  }
}
