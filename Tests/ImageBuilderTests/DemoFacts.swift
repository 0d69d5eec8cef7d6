// The demo kernel's build facts for tests, read by python straight from the Volatility 3 ISF of
// ntkrnlmp.pdb 3177D31000BA7590DED335936C93E374-1 (independent of CallScope's symbol readers):
// symbol RVAs, and offsets and widths of the structs the demo writes.

import Foundation
import ImageBuilder
import TestData

enum DemoFacts {
  static let isfPath = "data/isf/ntkrnlmp.pdb/3177D31000BA7590DED335936C93E374-1.json.xz"
  /// ntoskrnl.exe 10.0.19041.1415's SizeOfImage (the reference images' truth, nt_pe.size_of_image).
  static let sizeOfImage: UInt64 = 0xE0_4000
  static let structs = [
    "_LIST_ENTRY", "_UNICODE_STRING", "_KLDR_DATA_TABLE_ENTRY", "_EPROCESS", "_KPROCESS", "_KUSER_SHARED_DATA",
    "_OBJECT_TYPE",
  ]

  /// Prints {symbols: {name: rva}, structs: {name: {size, fields: {name: [offset, width]}}}}.
  static let script = """
    import lzma, json, sys
    d = json.load(lzma.open(sys.argv[1]))
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
    for name in sys.argv[2:]:
        u = users[name]
        structs[name] = {'size': u['size'], 'fields': {f: [v['offset'], width(v['type'])]
            for f, v in u['fields'].items() if v['type']['kind'] != 'bitfield'}}
    print(json.dumps({'symbols': {n: s['address'] for n, s in d['symbols'].items()}, 'structs': structs}))
    """

  /// The facts and layouts for `WindowsImageBuilder.demo`.
  static func load() throws -> (KernelBuildFacts, LayoutTable) {
    let result = try TestData.run(
      "/usr/bin/env", ["python3", "-c", script, TestData.shared(isfPath).path] + structs)
    guard result.status == 0,
      let json = try JSONSerialization.jsonObject(with: result.stdoutData) as? [String: Any],
      let symbols = json["symbols"] as? [String: NSNumber], let structs = json["structs"] as? [String: [String: Any]]
    else { throw TestDataError.tool("ISF reader failed: \(result.stderr)") }
    var layouts: [StructLayout] = []
    for (name, info) in structs {
      let fields = (info["fields"] as? [String: [Int]]) ?? [:]
      layouts.append(
        StructLayout(
          name: name, size: info["size"] as? Int ?? 0,
          fields: fields.compactMapValues { $0.count == 2 ? .init(offset: $0[0], size: $0[1]) : nil }))
    }
    return (
      KernelBuildFacts(sizeOfImage: sizeOfImage, symbols: symbols.mapValues(\.uint64Value)), LayoutTable(layouts)
    )
  }

  /// `load()` run once per test process (the ISF takes python a few seconds to parse).
  static let cached: Result<(KernelBuildFacts, LayoutTable), any Error> = Result { try load() }

  /// The demo image written to a fresh temporary file: the builder and the path.
  static func writeDemo(seed: UInt64 = 1) throws -> (WindowsImageBuilder, String) {
    let (facts, layouts) = try cached.get()
    let builder = try WindowsImageBuilder.demo(seed: seed, build: facts, layouts: layouts)
    let path = try Oracles.temporaryPath("demo.raw")
    try builder.writeRaw(to: path)
    return (builder, path)
  }
}
