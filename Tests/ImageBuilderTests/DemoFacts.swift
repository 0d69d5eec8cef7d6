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
  /// The facts and layouts for `WindowsImageBuilder.demo`: the reference build's row of the
  /// cross-build facts (one python run over the ISF files reads both).
  static func load() throws -> (KernelBuildFacts, LayoutTable) {
    let facts = try CrossBuildData.facts(CrossBuild.reference)
    return (KernelBuildFacts(sizeOfImage: sizeOfImage, symbols: facts.symbols), facts.layouts)
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
