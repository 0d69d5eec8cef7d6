// The ISF reader against python's reading of the same files: every symbol, every field of a few
// structs, every struct size, enums; the .json/.json.gz variants and Volatility 3's folder layouts.

import Foundation
import Symbols
import TestData
import Testing

@Suite struct ISFProfileTests {
  static let structs = ["_EPROCESS", "_OBJECT_TYPE_INITIALIZER", "_KUSER_SHARED_DATA", "_DEVICE_OBJECT", "_KTHREAD"]
  static let script =
    ISFOracle.prelude + ISFOracle.pythonRender + """
      req = json.load(open(sys.argv[1]))
      res = []
      for path in req['files']:
          d = load(path)
          pdb = d['metadata']['windows']['pdb']
          res.append({'guid': pdb['GUID'], 'age': pdb['age'], 'name': pdb['database'],
                      'symbols': {k: v['address'] for k, v in d['symbols'].items()},
                      'sizes': {k: v['size'] for k, v in d['user_types'].items()},
                      'fields': {s: {k: field(f) for k, f in d['user_types'][s]['fields'].items()}
                                 for s in req['structs'] if s in d['user_types']},
                      'enums': {k: v['constants'] for k, v in d['enums'].items()},
                      'base': {k: v['size'] for k, v in d['base_types'].items()}})
      json.dump(res, open(sys.argv[2], 'w'))
      """

  /// Three builds spread over the folder (Windows 10 and 11).
  static func sample() throws -> [String] {
    let all = try ISFOracle.allFiles()
    return [all[0], all[all.count / 2], all[all.count - 1]]
  }

  @Test func sampleMatchesPython() throws {
    let files = try Self.sample()
    let expected = try #require(
      try ISFOracle.run(Self.script, request: ["files": files, "structs": Self.structs], cached: true)
        as? [[String: Any]])
    for (path, e) in zip(files, expected) {
      let p = try ISFProfile(path: path)
      #expect(p.identity.guid == e["guid"] as? String)
      #expect(p.identity.age == UInt32(try #require(e["age"] as? Int)))
      #expect(p.identity.name == e["name"] as? String)
      #expect(p.source == .isf)
      var mismatches: [String] = []
      let symbols = try #require(e["symbols"] as? [String: Int])
      #expect(p.symbolNames.count == symbols.count)
      for (name, rva) in symbols where p.symbol(name)?.rva != UInt64(rva) { mismatches.append("symbol \(name)") }
      let sizes = try #require(e["sizes"] as? [String: Int])
      #expect(p.structNames.count == sizes.count)
      for (name, size) in sizes where p.structSize(name) != size { mismatches.append("size of \(name)") }
      let fields = try #require(e["fields"] as? [String: [String: [Any]]])
      #expect(fields.count == Self.structs.count)
      for (s, fs) in fields {
        #expect(p.fields(of: s)?.count == fs.count)
        for (name, f) in fs {
          let got = p.field(s, name)
          if got?.offset != f[0] as? Int || got.map({ ISFOracle.render($0.type) }) != f[1] as? String
            || got?.bitPosition != f[2] as? Int || got?.bitLength != f[3] as? Int
          {
            mismatches.append("\(s).\(name): \(String(describing: got)) vs \(f)")
          }
        }
      }
      let enums = try #require(e["enums"] as? [String: [String: Int]])
      #expect(p.enumNames.count == enums.count)
      for (name, constants) in enums where p.enumeration(name)?.mapValues({ Int($0) }) != constants {
        mismatches.append("enum \(name)")
      }
      for (name, size) in try #require(e["base"] as? [String: Int]) where p.baseTypeSize(name) != size {
        mismatches.append("base type \(name)")
      }
      #expect(mismatches.isEmpty, "\(path): \(mismatches.prefix(20))")
    }
  }

  @Test func pointerAndBaseSizesAreResolved() throws {
    let p = try ISFProfile(path: try Self.sample()[0])
    // Volatility 3's base_types give `pointer` 8 bytes and `unsigned long` 4 bytes on x64.
    #expect(p.field("_EPROCESS", "Peb")?.type == .pointer(to: .structure(name: "_PEB"), size: 8))
    #expect(p.field("_EPROCESS", "UniqueProcessId")?.type == .pointer(to: .base(name: "void", size: 0), size: 8))
    #expect(p.machineType == 0x8664)
  }

  @Test func plainAndGzipFilesAndVolatilityLayouts() throws {
    let source = try Self.sample()[1]
    let dir = try TestData.temporaryDirectory("isf-layout")
    defer { try? FileManager.default.removeItem(at: dir) }
    let name = (source as NSString).lastPathComponent
    let stem = String(name.dropLast(".json.xz".count))
    // Volatility 3 layout windows/<pdb>/<GUID>-<AGE>.json.gz, made with python's gzip (independent).
    try FileManager.default.createDirectory(
      atPath: dir.path + "/vol/windows/ntkrnlmp.pdb", withIntermediateDirectories: true)
    let gz = dir.path + "/vol/windows/ntkrnlmp.pdb/\(stem).json.gz"
    let plain = dir.path + "/\(stem).json"
    let r = try TestData.run(
      "python3",
      [
        "-c",
        "import lzma,gzip,sys; d=lzma.open(sys.argv[1]).read(); open(sys.argv[3],'wb').write(d); "
          + "gzip.open(sys.argv[2],'wb').write(d)", source, gz, plain,
      ])
    #expect(r.status == 0, "\(r.stderr)")
    let a = try ISFProfile(path: source)
    let b = try ISFProfile(path: gz)
    let c = try ISFProfile(path: plain)
    #expect(a.identity == b.identity && b.identity == c.identity)
    #expect(a.symbol("PsActiveProcessHead") == b.symbol("PsActiveProcessHead"))
    #expect(c.field("_EPROCESS", "ActiveProcessLinks") == a.field("_EPROCESS", "ActiveProcessLinks"))
    #expect(try ISFDirectory.find(root: dir.path + "/vol", identity: a.identity) == gz)
    // The flat layout of ../shared/data/isf.
    let flatRoot = TestData.shared("data/isf").path
    #expect(try ISFDirectory.find(root: flatRoot, identity: a.identity) == source)
    #expect(ISFDirectory.list(root: flatRoot).count == 213)
    #expect(ISFDirectory.versions(inDirectory: flatRoot).count == 213)
  }
}
