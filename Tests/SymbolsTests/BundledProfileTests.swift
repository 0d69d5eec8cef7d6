// The shipped bundle against every one of the 213 ISF files it was built from: each symbol's RVA and
// every field (offset, type, bits) of each struct the kernel model (BundledCatalog) and the callback
// families (their descriptors) keep, as python reads them.

import Callbacks
import Foundation
import Symbols
import TestData
import Testing

@Suite struct BundledProfileTests {
  /// What `callscope symbols bundle` keeps: the kernel model's, then the families'.
  static let symbols = FamilyDescriptor.unique(BundledCatalog.symbols + FamilyDescriptor.bundledSymbols)
  static let structs = FamilyDescriptor.unique(BundledCatalog.structs + FamilyDescriptor.bundledStructs)

  static let script =
    ISFOracle.prelude + ISFOracle.pythonRender + """
      req = json.load(open(sys.argv[1]))
      def one(path):
          d = load(path)
          pdb = d['metadata']['windows']['pdb']
          syms = {n: d['symbols'][n]['address'] for n in req['symbols'] if n in d['symbols']}
          types = {}
          for s in req['structs']:
              u = d['user_types'].get(s)
              if u is None: continue
              types[s] = {'size': u['size'], 'fields': {k: field(f) for k, f in u['fields'].items()}}
          return {'guid': pdb['GUID'].upper(), 'age': pdb['age'], 'name': pdb['database'], 'symbols': syms, 'types': types}
      res = [one(f) for f in req['files']]
      json.dump(res, open(sys.argv[2], 'w'))
      """

  @Test func everyBuildMatchesItsISFFile() throws {
    let files = try ISFOracle.allFiles()
    #expect(files.count == 213)
    let expected = try #require(
      try ISFOracle.run(
        Self.script,
        request: ["files": files, "symbols": Self.symbols, "structs": Self.structs], cached: true)
        as? [[String: Any]])
    #expect(expected.count == files.count)
    let bundle = try BundledProfiles.shipped()
    #expect(bundle.builds.count == 213)
    // Mismatches are collected and checked once: hundreds of thousands of values are compared.
    var mismatches: [String] = []
    func check(_ ok: Bool, _ what: @autoclosure () -> String) {
      if !ok, mismatches.count < 50 { mismatches.append(what()) }
    }
    var checkedSymbols = 0
    var checkedFields = 0
    for build in expected {
      let id = PDBIdentity(
        name: try #require(build["name"] as? String), guid: try #require(build["guid"] as? String),
        age: UInt32(try #require(build["age"] as? Int)))
      let profile = try #require(try bundle.profile(for: id), "build \(id) missing from the bundle")
      #expect(profile.source == .bundled)
      let symbols = try #require(build["symbols"] as? [String: Int])
      for name in Self.symbols {
        let got = profile.symbol(name)
        if let rva = symbols[name] {
          check(
            got?.rva == UInt64(rva) && got?.provenance == .bundled, "\(id) \(name): \(String(describing: got)) ≠ \(rva)"
          )
          checkedSymbols += 1
        } else {
          check(got == nil, "\(id) \(name) should be absent")
        }
      }
      let types = try #require(build["types"] as? [String: [String: Any]])
      for name in Self.structs {
        guard let t = types[name] else {
          check(profile.structSize(name) == nil, "\(id) \(name) should be absent")
          continue
        }
        check(profile.structSize(name) == t["size"] as? Int, "\(id) \(name) size")
        let fields = try #require(t["fields"] as? [String: [Any]])
        check(profile.fields(of: name)?.count == fields.count, "\(id) \(name) field count")
        for (fname, f) in fields {
          guard let got = profile.field(name, fname) else {
            check(false, "\(id) \(name).\(fname) missing")
            continue
          }
          check(got.offset == f[0] as? Int, "\(id) \(name).\(fname) offset \(got.offset)")
          check(ISFOracle.render(got.type) == f[1] as? String, "\(id) \(name).\(fname) type \(got.type)")
          check(got.bitPosition == f[2] as? Int, "\(id) \(name).\(fname) bit position")
          check(got.bitLength == f[3] as? Int, "\(id) \(name).\(fname) bit length")
          check(got.provenance == .bundled, "\(id) \(name).\(fname) provenance")
          checkedFields += 1
        }
      }
    }
    #expect(mismatches.isEmpty, "\(mismatches.joined(separator: "\n"))")
    #expect(checkedSymbols > 213 * 80)
    #expect(checkedFields > 213 * 1000)
  }

  @Test func unknownBuildIsAbsent() throws {
    let bundle = try BundledProfiles.shipped()
    let id = PDBIdentity(name: "ntkrnlmp.pdb", guid: String(repeating: "0", count: 32), age: 1)
    #expect(try bundle.profile(for: id) == nil)
  }

  @Test func bundleStaysSmall() throws {
    let bundle = try BundledProfiles.shipped()
    let size = try FileManager.default.attributesOfItem(atPath: bundle.path)[.size] as? Int ?? .max
    #expect(size < 3 << 20)
  }
}
