// Parsers for llvm-pdbutil's text dumps, the independent oracle of the PDB tests: summary (GUID,
// age), section headers, publics/globals/module symbols (segment:offset), and type records.

import Foundation

/// What llvm-pdbutil says about one PDB.
struct PDBUtilDump {
  struct Member {
    var name: String
    var type: UInt32
    var offset: Int
  }
  struct Aggregate {
    var name: String
    var size: Int
    var fieldList: UInt32?
    var forward: Bool
  }

  var guid = ""
  var age: UInt32 = 0
  /// Section virtual addresses, index 0 = segment 1.
  var sectionVAs: [UInt64] = []
  /// name → (segment, offset) for S_PUB32.
  var publics: [String: (UInt16, UInt32)] = [:]
  /// name → (segment, offset) for S_GDATA32/S_LDATA32.
  var data: [String: (UInt16, UInt32)] = [:]
  /// name → (segment, offset) for S_GPROC32/S_LPROC32 in module streams.
  var procedures: [String: (UInt16, UInt32)] = [:]
  var aggregates: [UInt32: Aggregate] = [:]
  var fieldLists: [UInt32: [Member]] = [:]
  var enumerators: [UInt32: [String: Int64]] = [:]
  var enums: [String: UInt32] = [:]
  /// LF_BITFIELD index → (position, length).
  var bitfields: [UInt32: (Int, Int)] = [:]

  func rva(_ a: (UInt16, UInt32)) -> UInt64? {
    guard a.0 >= 1, Int(a.0) <= sectionVAs.count else { return nil }
    return sectionVAs[Int(a.0) - 1] + UInt64(a.1)
  }

  init(pdb: String) throws {
    let summary = try pdbutil(["dump", "-summary", pdb])
    if let g = capture(#"GUID: \{([0-9A-F-]+)\}"#, in: summary) { guid = g[0].replacingOccurrences(of: "-", with: "") }
    if let a = capture(#"Age: (\d+)"#, in: summary) { age = UInt32(a[0]) ?? 0 }

    let sections = try pdbutil(["dump", "-section-headers", pdb])
    let head = sections.components(separatedBy: "Original Section Headers")[0]
    sectionVAs = captures(#"^\s+([0-9A-F]+) virtual address$"#, in: head).compactMap { UInt64($0[0], radix: 16) }

    let addr = #"`([^`]*)`\n.*?addr = ([0-9]{4}):([0-9]+)"#
    for m in captures(#"S_PUB32 \[size = \d+\] "# + addr, in: try pdbutil(["dump", "-publics", pdb])) {
      publics[m[0]] = (UInt16(m[1]) ?? 0, UInt32(m[2]) ?? 0)
    }
    for m in captures(
      #"S_[GL]DATA32 \[size = \d+\] `([^`]*)`\n.*?addr = ([0-9]{4}):([0-9]+)"#,
      in: try pdbutil(["dump", "-globals", pdb]))
    {
      if data[m[0]] == nil { data[m[0]] = (UInt16(m[1]) ?? 0, UInt32(m[2]) ?? 0) }
    }
    for m in captures(
      #"S_[GL]PROC32 \[size = \d+\] `([^`]*)`\n.*?addr = ([0-9]{4}):([0-9]+)"#,
      in: try pdbutil(["dump", "-symbols", pdb]))
    {
      procedures[m[0]] = (UInt16(m[1]) ?? 0, UInt32(m[2]) ?? 0)
    }
    try parseTypes(try pdbutil(["dump", "-types", pdb]))
  }

  private mutating func parseTypes(_ text: String) throws {
    // Split into records: "  0x1004 | LF_STRUCTURE [size = 28] `_DEV`" followed by indented lines.
    let recordStart = try NSRegularExpression(
      pattern: #"^\s+0x([0-9A-F]+) \| (LF_\w+) \[size = \d+\](?: `(.*)`)?$"#, options: [.anchorsMatchLines])
    let ns = text as NSString
    let matches = recordStart.matches(in: text, range: NSRange(location: 0, length: ns.length))
    for (i, m) in matches.enumerated() {
      let end = i + 1 < matches.count ? matches[i + 1].range.location : ns.length
      let body = ns.substring(with: NSRange(location: m.range.location, length: end - m.range.location))
      guard let index = UInt32(ns.substring(with: m.range(at: 1)), radix: 16) else { continue }
      let kind = ns.substring(with: m.range(at: 2))
      let name = m.range(at: 3).location == NSNotFound ? "" : ns.substring(with: m.range(at: 3))
      switch kind {
      case "LF_STRUCTURE", "LF_UNION", "LF_CLASS":
        let size = capture(#"sizeof (\d+)"#, in: body).flatMap { Int($0[0]) } ?? -1
        let fl = capture(#"field list: 0x([0-9A-F]+)"#, in: body).flatMap { UInt32($0[0], radix: 16) }
        aggregates[index] = Aggregate(name: name, size: size, fieldList: fl, forward: body.contains("forward ref"))
      case "LF_ENUM":
        if !body.contains("forward ref"), let fl = capture(#"field list: 0x([0-9A-F]+)"#, in: body) {
          enums[name] = UInt32(fl[0], radix: 16)
        }
      case "LF_FIELDLIST":
        fieldLists[index] = captures(
          #"LF_MEMBER \[name = `([^`]*)`, Type = 0x([0-9A-F]+).*?, offset = (\d+)"#, in: body
        )
        .map { Member(name: $0[0], type: UInt32($0[1], radix: 16) ?? 0, offset: Int($0[2]) ?? -1) }
        var e: [String: Int64] = [:]
        for m in captures(#"LF_ENUMERATE \[(\w+) = (-?\d+)\]"#, in: body) { e[m[0]] = Int64(m[1]) }
        if !e.isEmpty { enumerators[index] = e }
      case "LF_BITFIELD":
        if let b = capture(#"bit offset = (\d+), # bits = (\d+)"#, in: body) {
          bitfields[index] = (Int(b[0]) ?? -1, Int(b[1]) ?? -1)
        }
      default: break
      }
    }
  }

  /// Defined (non-forward) aggregates by name, first definition wins.
  var definitions: [String: Aggregate] {
    var out: [String: Aggregate] = [:]
    for k in aggregates.keys.sorted() {
      if let a = aggregates[k], !a.forward, out[a.name] == nil { out[a.name] = a }
    }
    return out
  }
}
