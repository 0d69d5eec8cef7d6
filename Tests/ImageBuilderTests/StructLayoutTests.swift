// The default layout table is pinned to the public ntkrnlmp.pdb (Volatility 3 ISF of build 19041),
// and struct instances put fields where the layout says.

import Foundation
import ImageBuilder
import TestData
import Testing

struct StructLayoutTests {
  @Test func windows10TableMatchesTheISF() throws {
    let isf = TestData.shared("data/isf/ntkrnlmp.pdb/3177D31000BA7590DED335936C93E374-1.json.xz").path
    let script = """
      import json, lzma, sys
      d = json.load(lzma.open(sys.argv[1])); t = d['user_types']['_KUSER_SHARED_DATA']
      sizes = {k: v['size'] for k, v in d['base_types'].items()}
      def width(ty):
          if ty['kind'] == 'base': return sizes[ty['name']]
          if ty['kind'] == 'enum': return d['enums'][ty['name']]['size']
          return 0
      print(json.dumps({'size': t['size'], 'fields': {k: [v['offset'], width(v['type'])] for k, v in t['fields'].items()}}))
      """
    let json = try #require(try Oracles.python(script, [isf]) as? [String: Any])
    let layout = try LayoutTable.windows10x64.layout("_KUSER_SHARED_DATA")
    #expect(json["size"] as? Int == layout.size)
    let fields = try #require(json["fields"] as? [String: [Int]])
    for (name, field) in layout.fields {
      #expect(fields[name] == [field.offset, field.size], "\(name)")
    }
  }

  @Test func instanceWritesFieldsLittleEndianAtTheirOffsets() throws {
    let table = LayoutTable(offsets: ["_X": ["A": 0, "B": 6]], sizes: ["_X": 0x10])
    var x = try table.instance("_X")
    try x.set("A", 0x0102, width: 2)
    try x.set("B", 0xAABB_CCDD, width: 4)
    #expect(x.bytes.bytes == [0x02, 0x01, 0, 0, 0, 0, 0xDD, 0xCC, 0xBB, 0xAA, 0, 0, 0, 0, 0, 0])
    #expect(throws: ImageBuilderError.self) { try x.set("A", 1) }  // width unknown
    #expect(throws: ImageBuilderError.unknownLayout(structure: "_Y", field: nil)) { try table.instance("_Y") }
  }
}
