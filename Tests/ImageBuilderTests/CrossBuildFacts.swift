// Kernel builds other than the 19041 reference for the demo scenario: Windows 7 SP1, 8.1, Server
// 2016, 10 1809, Server 2022 and 11 21H2. Each build's symbol RVAs and struct layouts are read by python straight from its
// Volatility 3 ISF (data/isf/ntkrnlmp.pdb, independent of CallScope's symbol readers); its file
// version comes from the folder's VERSIONS.md table.

import Foundation
import ImageBuilder
import TestData
import Testing

/// One real ntoskrnl build the demo scenario is planted on.
struct CrossBuild: Sendable, CustomTestStringConvertible {
  /// What the build is (for test names).
  let label: String
  /// PDB GUID of ntkrnlmp.pdb (age 1 for every build here).
  let guid: String

  var testDescription: String { label }
  var isfPath: String { "data/isf/ntkrnlmp.pdb/\(guid)-1.json.xz" }

  /// The builds covered. VERSIONS.md lists no 10.0.22621 (Windows 11 22H2) ISF; the newest Windows 11
  /// client build it has, 10.0.22000.2538 (21H2), stands in for it.
  static let all: [CrossBuild] = [
    CrossBuild(label: "Windows 7 SP1 6.1.7601", guid: "339E74133576439CBCDF7E0229DA3773"),
    CrossBuild(label: "Windows 8.1 6.3.9600", guid: "22597D0B40394E23936F6A24C6C52D5B"),
    CrossBuild(label: "Windows Server 2016 10.0.14393", guid: "517E128F7B7C4EA79491DE6B9B9CE190"),
    CrossBuild(label: "Windows 10 1809 10.0.17763", guid: "8B11040A5928757B11390AC78F6B6925"),
    CrossBuild(label: "Windows Server 2022 10.0.20348", guid: "879AD95F3461091BB6318FA98072AD8E"),
    CrossBuild(label: "Windows 11 21H2 10.0.22000", guid: "0CE4A95C0CD782A7596B034D8648E585"),
  ]

  /// The 19041 reference build (only to check the SizeOfImage rule against a known value).
  static let reference = CrossBuild(label: "Windows 10 2004 10.0.19041", guid: "3177D31000BA7590DED335936C93E374")
}

/// What python read from one build's ISF, plus its version from VERSIONS.md.
struct CrossBuildFacts: Sendable {
  /// Symbol name → RVA (every symbol of the ISF).
  var symbols: [String: UInt64]
  /// The structs the demo writes that this build's PDB describes.
  var layouts: LayoutTable
  /// The highest symbol RVA in the ISF.
  var maxRVA: UInt64
  /// File version `[major, minor, build, revision]` from VERSIONS.md.
  var version: [UInt16]

  /// A SizeOfImage for the synthetic kernel: the ISF does not record the real one, so every symbol's
  /// page plus the two pages the builder appends (.pdata and .rsrc). For 19041 this gives the real
  /// 0xe04000.
  var sizeOfImage: UInt64 { ((maxRVA + 0x1000) & ~0xFFF) + 0x2000 }

  var buildNumber: Int { version.count > 2 ? Int(version[2]) : 0 }

  var kernelBuild: KernelBuildFacts { KernelBuildFacts(sizeOfImage: sizeOfImage, symbols: symbols) }
}

enum CrossBuildData {
  /// Structs the demo writes from the build's own layouts (a build lacking one, e.g.
  /// `_KLDR_DATA_TABLE_ENTRY` on Windows 7 and 8.1, is simply left out).
  static let structs =
    [
      "_LIST_ENTRY", "_UNICODE_STRING", "_KLDR_DATA_TABLE_ENTRY", "_LDR_DATA_TABLE_ENTRY", "_EPROCESS", "_KPROCESS",
      "_KUSER_SHARED_DATA", "_OBJECT_TYPE",
    ] + DemoScenario.etwStructs

  /// argv: the struct names joined by commas, then ISF paths. Prints one object per ISF:
  /// {symbols: {name: rva}, maxRVA, structs: {name: {size, fields: {name: [offset, width]}}}}.
  static let script = """
    import lzma, json, sys
    names = sys.argv[1].split(',')
    out = []
    for path in sys.argv[2:]:
        d = json.load(lzma.open(path))
        base, users, enums = d['base_types'], d['user_types'], d.get('enums', {})
        def width(t):
            k = t['kind']
            if k == 'base': return base[t['name']]['size']
            if k == 'pointer': return base['pointer']['size']
            if k == 'array': return t['count'] * width(t['subtype'])
            if k in ('struct', 'union'): return users[t['name']]['size']
            if k == 'enum': return enums[t['name']]['size']
            return 0
        structs = {}
        for name in names:
            if name not in users: continue
            u = users[name]
            structs[name] = {'size': u['size'], 'fields': {f: [v['offset'], width(v['type'])]
                for f, v in u['fields'].items() if v['type']['kind'] != 'bitfield'}}
        symbols = {n: s['address'] for n, s in d['symbols'].items() if s.get('address') is not None}
        out.append({'symbols': symbols, 'maxRVA': max(symbols.values()), 'structs': structs})
    print(json.dumps(out))
    """

  /// Facts of `CrossBuild.all` followed by `CrossBuild.reference`, read in one python run.
  static func load() throws -> [String: CrossBuildFacts] {
    let builds = CrossBuild.all + [CrossBuild.reference]
    let paths = builds.map { TestData.shared($0.isfPath).path }
    let result = try TestData.run(
      "/usr/bin/env", ["python3", "-c", script, structs.joined(separator: ",")] + paths)
    guard result.status == 0, let rows = try JSONSerialization.jsonObject(with: result.stdoutData) as? [[String: Any]],
      rows.count == builds.count
    else { throw TestDataError.tool("ISF reader failed: \(result.stderr)") }
    let versions = try String(contentsOf: TestData.shared("data/isf/VERSIONS.md"), encoding: .utf8)
    var facts: [String: CrossBuildFacts] = [:]
    for (build, row) in zip(builds, rows) {
      guard let symbols = row["symbols"] as? [String: NSNumber], let maxRVA = row["maxRVA"] as? NSNumber,
        let structs = row["structs"] as? [String: [String: Any]]
      else { throw TestDataError.tool("ISF reader gave no facts for \(build.guid)") }
      var layouts: [StructLayout] = []
      for (name, info) in structs {
        let fields = (info["fields"] as? [String: [Int]]) ?? [:]
        layouts.append(
          StructLayout(
            name: name, size: info["size"] as? Int ?? 0,
            fields: fields.compactMapValues { $0.count == 2 ? .init(offset: $0[0], size: $0[1]) : nil }))
      }
      facts[build.guid] = CrossBuildFacts(
        symbols: symbols.mapValues(\.uint64Value), layouts: LayoutTable(layouts), maxRVA: maxRVA.uint64Value,
        version: try version(of: build.guid, in: versions))
    }
    return facts
  }

  /// The ntoskrnl version VERSIONS.md gives for `guid` (`| 6.1.7601.24540 | Win7 | GUID-1.json.xz |`).
  static func version(of guid: String, in table: String) throws -> [UInt16] {
    guard let line = table.split(separator: "\n").first(where: { $0.contains("\(guid)-1.json.xz") }) else {
      throw TestDataError.tool("VERSIONS.md has no row for \(guid)")
    }
    let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
    let numbers = cells.first.map { $0.split(separator: ".").compactMap { UInt16($0) } } ?? []
    guard numbers.count == 4 else { throw TestDataError.tool("VERSIONS.md row for \(guid): \(line)") }
    return numbers
  }

  /// `load()` run once per test process.
  static let cached: Result<[String: CrossBuildFacts], any Error> = Result { try load() }

  /// The facts of `build`.
  static func facts(_ build: CrossBuild) throws -> CrossBuildFacts {
    guard let facts = try cached.get()[build.guid] else { throw TestDataError.tool("no facts for \(build.guid)") }
    return facts
  }

  /// The demo planted on `build`'s kernel (its PDB GUID/age and version), written to a temporary file;
  /// `adjust` may change the image before it is written.
  static func writeDemo(
    _ build: CrossBuild, seed: UInt64, adjust: (WindowsImageBuilder, CrossBuildFacts) throws -> Void = { _, _ in }
  ) throws -> (WindowsImageBuilder, CrossBuildFacts, String) {
    let facts = try facts(build)
    var configuration = WindowsImageConfiguration(seed: seed)
    configuration.pdbGUID = build.guid
    configuration.pdbAge = 1
    configuration.version = facts.version
    let builder = try WindowsImageBuilder.demo(configuration, build: facts.kernelBuild, layouts: facts.layouts)
    try adjust(builder, facts)
    let path = try Oracles.temporaryPath("demo-\(facts.buildNumber).raw")
    try builder.writeRaw(to: path)
    return (builder, facts, path)
  }
}
