// The rootkit reference image's HTML page (`callscope callbacks --format html`) rendered by a real
// headless Chromium, checked against ../shared/images/win10-19041-rootkit.truth.json: every row, the
// planted findings with their flags, the family finding, families not located, the filter, the
// flagged-only toggle, sorting, the per-module view, and a screenshot saved under the test-data cache.

import Foundation
import TestData
import Testing

@Suite(.serialized) struct HTMLRootkitPageTests {
  static let image = "win10-19041-rootkit"

  /// A truth callback: family, routine, owning module (nil in none) and the flags CallScope should give.
  struct TruthRow: Hashable {
    var family: String
    var routine: UInt64
    var module: String?
    var flags: Set<String>
    var zeroed: Bool
  }

  /// The truth file's anomaly names mapped to CallScope's flag ids (Finding.swift's Rule raw values);
  /// `slot_beyond_8` is a layout note, `slot_zeroed_count_kept` a family finding, not row flags.
  static let flagOf: [String: String] = [
    "no_module": "outside-modules", "unlinked_module": "unlinked-module", "disabled": "disabled",
    "patched_ret": "patched-prologue", "patched_xor_ret": "patched-prologue",
  ]

  static func truth() throws -> (rows: [TruthRow], skipped: [String]) {
    let path = TestData.shared("images/\(image).truth.json").path
    guard let truth = try TestData.json(path) as? [String: Any],
      let callbacks = truth["callbacks"] as? [[String: Any]],
      let skipped = truth["families_skipped"] as? [[String: Any]]
    else { throw Chromium.Failure(description: "\(path): no callbacks / families_skipped") }
    let rows = try callbacks.map { c -> TruthRow in
      guard let family = c["callscope_family"] as? String, let routine = TestData.hex(c["function"]) else {
        throw Chromium.Failure(description: "\(path): callback without callscope_family/function: \(c)")
      }
      let anomalies = c["anomalies"] as? [String] ?? []
      return TruthRow(
        family: family, routine: routine, module: c["module"] as? String,
        flags: Set(anomalies.compactMap { flagOf[$0] }), zeroed: anomalies.contains("slot_zeroed_count_kept"))
    }
    return (rows, skipped.compactMap { $0["callscope_family"] as? String })
  }

  /// Writes the image's page with the built CLI into `directory` and returns its path.
  static func page(in directory: URL) throws -> String {
    let imagePath = try TestData.decompressed("images/\(image).raw.xz")
    let out = directory.appendingPathComponent("\(image).html")
    let result = try TestData.run(
      try CallScopeBinary.path(), ["callbacks", "--offline", imagePath, "--format", "html", "--output", out.path])
    guard result.status == 0 else {
      throw Chromium.Failure(description: "callscope exited \(result.status): \(result.stderr)")
    }
    return out.path
  }

  struct Key: Hashable {
    var family: String
    var routine: UInt64
  }

  @Test func pageLoadsWithEveryTruthRowAndItsFlags() throws {
    let dir = try TestData.temporaryDirectory("html-rootkit")
    defer { try? FileManager.default.removeItem(at: dir) }
    let dom = try Chromium.dumpDOM(Chromium.url(try Self.page(in: dir)))
    #expect(dom.contains("data-ready=\"1\""), "the page's script did not run")
    let (truth, skipped) = try Self.truth()
    let present = truth.filter { !$0.zeroed }
    let rows = try DOM.rows(dom, table: "all-rows")
    #expect(rows.count == present.count)
    #expect(rows.allSatisfy { !$0.hidden })
    let byKey = Dictionary(rows.map { (Key(family: $0.family, routine: $0.routine), $0) }) { a, _ in a }
    #expect(Set(byKey.keys) == Set(present.map { Key(family: $0.family, routine: $0.routine) }))
    for t in present {
      let key = Key(family: t.family, routine: t.routine)
      guard let row = byKey[key] else {
        Issue.record("truth row \(t.family) 0x\(String(t.routine, radix: 16)) missing from the page")
        continue
      }
      #expect(Set(row.flags) == t.flags, "\(t.family) 0x\(String(t.routine, radix: 16)): \(row.flags)")
      #expect(row.text.contains(String(t.routine, radix: 16)))
      if t.flags.contains("outside-modules") { #expect(row.module == "(no module)") }
      if let module = t.module { #expect(row.module == module) }
    }
    // The planted anomalies are all there: outside-modules, unlinked-module, disabled, patched-prologue.
    let planted = Set(present.flatMap(\.flags))
    #expect(planted == ["outside-modules", "unlinked-module", "disabled", "patched-prologue"])
    // Summary: counts by family match the truth; every flag is explained.
    for family in Set(present.map(\.family)) {
      let expected = present.filter { $0.family == family }
      let flagged = expected.filter { !$0.flags.isEmpty }.count
      #expect(
        dom.contains("data-family=\"\(family)\"><td>\(family)</td><td>\(expected.count)</td><td>\(flagged)</td>"),
        "summary count of \(family)")
    }
    #expect(dom.contains("routine lies in no loaded module"))
    #expect(dom.contains("object callback registered but disabled"))
    // The emptied slot whose counter was kept is a count-mismatch family finding.
    for family in Set(truth.filter(\.zeroed).map(\.family)) {
      #expect(dom.contains("data-family=\"\(family)\" data-flag=\"count-mismatch\""))
    }
    #expect(!skipped.isEmpty)
    for family in skipped {
      #expect(dom.contains("<li data-family=\"\(family)\"><b>\(family)</b>:"), "\(family) not listed as not located")
    }
  }

  @Test func moduleViewGroupsEveryRowByOwner() throws {
    let dir = try TestData.temporaryDirectory("html-rootkit")
    defer { try? FileManager.default.removeItem(at: dir) }
    let dom = try Chromium.dumpDOM(Chromium.url(try Self.page(in: dir)))
    let (truth, _) = try Self.truth()
    let groups = DOM.count("<details class=\"module", in: dom)
    var seen: [Key] = []
    for i in 0..<groups {
      let rows = try DOM.rows(dom, table: "module-\(i)")
      #expect(Set(rows.map(\.module)).count == 1, "module-\(i) mixes modules")
      seen += rows.map { Key(family: $0.family, routine: $0.routine) }
      if i == 0 { #expect(rows.first?.module == "(no module)") }
    }
    let present = truth.filter { !$0.zeroed }
    #expect(seen.count == present.count)
    #expect(Set(seen) == Set(present.map { Key(family: $0.family, routine: $0.routine) }))
    let truthModules = Set(present.compactMap(\.module))
    for module in truthModules { #expect(dom.contains("data-module=\"\(module)\"><summary>")) }
  }

  @Test func fragmentFiltersRows() throws {
    let dir = try TestData.temporaryDirectory("html-rootkit")
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = try Self.page(in: dir)
    let present = try Self.truth().rows.filter { !$0.zeroed }
    let key = { (r: DOMRow) in Key(family: r.family, routine: r.routine) }
    let truthKey = { (t: TruthRow) in Key(family: t.family, routine: t.routine) }

    // Flagged only: exactly the truth rows with anomalies.
    let flaggedDOM = try Chromium.dumpDOM(Chromium.url(path, fragment: "flagged=1"))
    let flagged = try DOM.rows(flaggedDOM, table: "all-rows").filter { !$0.hidden }
    #expect(Set(flagged.map(key)) == Set(present.filter { !$0.flags.isEmpty }.map(truthKey)))
    #expect(flaggedDOM.contains("\(flagged.count) of \(present.count) rows"))

    // Text filter: every truth row of the module shows, and every shown row contains the text.
    let textDOM = try Chromium.dumpDOM(Chromium.url(path, fragment: "filter=csagent.sys"))
    let textRows = try DOM.rows(textDOM, table: "all-rows")
    let shown = textRows.filter { !$0.hidden }
    #expect(Set(present.filter { $0.module == "csagent.sys" }.map(truthKey)).isSubset(of: Set(shown.map(key))))
    #expect(shown.allSatisfy { $0.text.lowercased().contains("csagent.sys") })
    #expect(textRows.filter(\.hidden).allSatisfy { !$0.text.lowercased().contains("csagent.sys") })
    #expect(shown.count < present.count)
    #expect(textDOM.contains("\(shown.count) of \(present.count) rows"))

    // Both: the module's flagged rows only.
    let bothDOM = try Chromium.dumpDOM(Chromium.url(path, fragment: "filter=CSAGENT&flagged=1"))
    let both = try DOM.rows(bothDOM, table: "all-rows").filter { !$0.hidden }
    let expected = present.filter { $0.module == "csagent.sys" && !$0.flags.isEmpty }
    #expect(!expected.isEmpty)
    #expect(Set(both.map(key)) == Set(expected.map(truthKey)))
  }

  @Test func fragmentSortsByRoutineDescending() throws {
    let dir = try TestData.temporaryDirectory("html-rootkit")
    defer { try? FileManager.default.removeItem(at: dir) }
    let dom = try Chromium.dumpDOM(Chromium.url(try Self.page(in: dir), fragment: "sort=routine&desc=1"))
    let routines = try DOM.rows(dom, table: "all-rows").map(\.routine)
    let present = try Self.truth().rows.filter { !$0.zeroed }
    #expect(routines.count == present.count)
    #expect(routines == present.map(\.routine).sorted(by: >))
    #expect(dom.contains("class=\"desc\">routine</th>"))
  }

  @Test func screenshotIsSaved() throws {
    let dir = TestData.cacheDir.appendingPathComponent("html-report")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let path = try Self.page(in: dir)
    for (name, fragment) in [("", nil), ("-flagged", "flagged=1")] as [(String, String?)] {
      let png = dir.appendingPathComponent("\(Self.image)\(name).png")
      try Chromium.screenshot(Chromium.url(path, fragment: fragment), to: png)
      let data = try Data(contentsOf: png)
      // PNG signature and IHDR width/height (PNG specification, sections 5.2 and 11.2.2).
      #expect(Array(data.prefix(8)) == [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
      #expect(data.count > 20_000, "\(png.path) is suspiciously small")
      guard data.count >= 24 else { continue }
      let be = { (o: Int) in data[o..<o + 4].reduce(0) { $0 << 8 | Int($1) } }
      #expect(be(16) == 1400)
      #expect(be(20) == 2000)
    }
  }
}
