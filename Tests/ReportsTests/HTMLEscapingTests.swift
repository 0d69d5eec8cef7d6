// The HTML page treats every string from the image as hostile: escaping of text and attributes (expected
// strings from the HTML Living Standard's character references), a page built from hostile names, and
// that page parsed by Chromium.

import Analysis
import Foundation
import Reports
import TestData
import Testing

struct HTMLEscapingTests {
  static let hostile = "<script>alert(1)</script>"
  static let attributeBreaker = "x\" onmouseover=\"alert(2)"

  /// A page whose every image-derived string is hostile.
  static func hostilePage() -> String {
    let rows = [
      HTMLReport.Row(
        family: "process-notify", index: 0, routine: 0xffff_f80d_ad59_2910, module: hostile,
        owner: hostile + "+0x2910", flags: ["outside-modules"], details: "name=" + hostile, provenance: "pdb"),
      HTMLReport.Row(
        family: attributeBreaker, index: nil, routine: 0xffff_f21b_d840_0070, module: attributeBreaker,
        owner: nil, flags: [attributeBreaker], details: "</td></tr></table><img src=x onerror=alert(3)>",
        provenance: "pdb"),
    ]
    let page = HTMLReport(
      title: "CallScope callbacks: " + hostile, facts: [("image", "/tmp/" + hostile + ".raw")], rows: rows,
      familiesRead: ["process-notify", hostile],
      familyFindings: [FamilyFinding(family: hostile, rule: .countMismatch, detail: hostile)],
      notLocated: [(family: hostile, reason: hostile)], warnings: [hostile])
    return page.rendered()
  }

  @Test func escapesTheFiveSpecialCharacters() {
    #expect(HTMLReport.escaped(Self.hostile) == "&lt;script&gt;alert(1)&lt;/script&gt;")
    #expect(HTMLReport.escaped("a\"b'c&d") == "a&quot;b&#39;c&amp;d")
    #expect(HTMLReport.escaped("plain ü text") == "plain ü text")
  }

  @Test func replacesControlCharacters() {
    #expect(HTMLReport.escaped("a\u{0}b\u{1b}c\u{7f}d\u{85}e") == "a\u{FFFD}b\u{FFFD}c\u{FFFD}d\u{FFFD}e")
    #expect(HTMLReport.escaped("tab\tline\nret\r") == "tab\tline\nret\r")
  }

  @Test func pageHasNoRawHostileMarkup() {
    let page = Self.hostilePage()
    #expect(!page.contains(Self.hostile))
    #expect(!page.contains("<img"))
    #expect(!page.contains("</td></tr></table><"))
    #expect(!page.contains("\" onmouseover=\""))
    #expect(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
    #expect(page.contains("x&quot; onmouseover=&quot;alert(2)"))
    // Exactly one script element: the page's own.
    #expect(DOM.count("<script", in: page) == 1)
  }

  @Test func moduleNamedNoModuleIsNotMergedWithRoutinesInNoModule() {
    let rows = [
      HTMLReport.Row(
        family: "nmi", index: 0, routine: 0x1000, module: nil, owner: nil, flags: ["outside-modules"], details: "",
        provenance: "pdb"),
      HTMLReport.Row(
        family: "nmi", index: 1, routine: 0x2000, module: "(no module)", owner: "(no module)+0x10", flags: [],
        details: "", provenance: "pdb"),
    ]
    let page = HTMLReport(
      title: "t", facts: [], rows: rows, familiesRead: ["nmi"], familyFindings: [], notLocated: [], warnings: []
    ).rendered()
    #expect(DOM.count("<details class=\"module", in: page) == 2)
    #expect(page.contains("<summary><b><i>(no module)</i></b> 1 row"))
    #expect(page.contains("<summary><b>(no module)</b> 1 row"))
  }

  @Test func pageFetchesNothing() {
    let page = Self.hostilePage()
    for needle in ["src=\"", "href=", "@import", "url(", "http://", "https://", "<link", "<iframe"] {
      #expect(!page.contains(needle), "page contains \(needle)")
    }
    #expect(page.contains("default-src 'none'"))
  }

  /// Chromium parses the hostile page: names stay text, no element is injected, and our script ran.
  @Test func chromiumKeepsHostileNamesAsText() throws {
    let dir = try TestData.temporaryDirectory("html-hostile")
    defer { try? FileManager.default.removeItem(at: dir) }
    let file = dir.appendingPathComponent("hostile.html")
    try Data(Self.hostilePage().utf8).write(to: file)
    let dom = try Chromium.dumpDOM(Chromium.url(file.path))
    #expect(dom.contains("data-ready=\"1\""), "the page's script did not run")
    #expect(DOM.count("<script", in: dom) == 1)
    #expect(!dom.contains("<img"))
    // No element gained an attribute (a serialised DOM escapes `<` in text, so `<…` starts a real tag).
    #expect(dom.range(of: #"<[a-zA-Z][^<>]*\s(onmouseover|onerror)=""#, options: .regularExpression) == nil)
    let rows = try DOM.rows(dom, table: "all-rows")
    #expect(rows.count == 2)
    #expect(rows.first?.module == Self.hostile)
    #expect(rows.first?.text.contains(Self.hostile + "+0x2910") == true)
    #expect(rows.last?.family == Self.attributeBreaker)
    #expect(rows.last?.text.contains("</td></tr></table><img src=x onerror=alert(3)>") == true)
    // The per-module view groups the hostile module and the routine in no module.
    #expect(DOM.count("<details class=\"module", in: dom) == 2)
    let moduleRows = try DOM.rows(dom, table: "module-0") + DOM.rows(dom, table: "module-1")
    #expect(Set(moduleRows.map(\.module)) == [Self.hostile, Self.attributeBreaker])
  }
}
