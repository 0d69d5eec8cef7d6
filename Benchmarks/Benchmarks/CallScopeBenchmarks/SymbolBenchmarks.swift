// Symbol sources: the bundled profile of the reference kernel, one Volatility 3 ISF file (.json.xz,
// decompressed and parsed), and a large PDB (publics and type records read and indexed).

import Benchmark
import Symbols

enum SymbolBenchmarks {
  /// The reference kernel's PDB.
  static let identity = PDBIdentity(name: "ntkrnlmp.pdb", guid: "3177D31000BA7590DED335936C93E374", age: 1)

  static func register() {
    Benchmark(
      "symbols: bundled profile lookup + open",
      configuration: .init(scalingFactor: .kilo, maxDuration: .seconds(5), maxIterations: 50),
      closure: { benchmark in
        for _ in benchmark.scaledIterations {
          guard let profile = try BundledProfiles.shipped().profile(for: identity) else {
            throw CheckFailed("no bundled profile for \(identity)")
          }
          blackHole(profile.field("_EPROCESS", "ActiveProcessLinks"))
        }
      })

    Benchmark(
      "symbols: ISF load (.json.xz, ntkrnlmp 19041)",
      configuration: .init(maxDuration: .seconds(10), maxIterations: 20),
      closure: { benchmark in
        for _ in benchmark.scaledIterations {
          let profile = try ISFProfile(path: Fixtures.referenceISF)
          guard let field = profile.field("_EPROCESS", "ActiveProcessLinks") else {
            throw CheckFailed("no _EPROCESS.ActiveProcessLinks")
          }
          blackHole(field)
        }
      })

    let pdb = Holder<String>()
    Benchmark(
      "symbols: PDB publics + types load (\(Fixtures.pdbFunctions) functions, \(Fixtures.pdbStructs) structs)",
      configuration: .init(maxDuration: .seconds(10), maxIterations: 20),
      closure: { benchmark in
        let path = try pdb.get()
        for _ in benchmark.scaledIterations {
          let profile = try PDBProfile(path: path)
          guard try profile.lookupSymbolRecord("fn_19999") != nil else { throw CheckFailed("no public fn_19999") }
          blackHole(try profile.types())
          guard profile.field("_BIG_3999", "next") != nil else { throw CheckFailed("no _BIG_3999.next") }
        }
      },
      setup: { pdb.set(try Fixtures.largePDB()) })
  }
}
