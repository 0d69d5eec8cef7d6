// Issue 12 item 8: CallbackAnalysis no longer drops a PsLoadedModuleList error. With the symbol
// removed from the image's real profile the analysis still reads every family (the truth's callback
// count) but says why no routine has a listed owner; with the real profile it says nothing.

import Analysis
import Callbacks
import MemoryImage
import Symbols
import TestData
import Testing
import WindowsKernel

/// The real profile without some symbols.
struct ProfileWithout: KernelProfile {
  let base: any KernelProfile
  let removed: Set<String>
  var identity: PDBIdentity { base.identity }
  var source: Provenance { base.source }
  var sourceDescription: String { base.sourceDescription }
  func symbol(_ name: String) -> SymbolInfo? { removed.contains(name) ? nil : base.symbol(name) }
  func structSize(_ name: String) -> Int? { base.structSize(name) }
  func field(_ structName: String, _ fieldName: String) -> FieldInfo? { base.field(structName, fieldName) }
  func enumeration(_ name: String) -> [String: Int64]? { base.enumeration(name) }
  var symbolNames: [String] { base.symbolNames.filter { !removed.contains($0) } }
  var structNames: [String] { base.structNames }
  func fields(of structName: String) -> [String: FieldInfo]? { base.fields(of: structName) }
}

@Suite struct ModuleListErrorTests {
  @Test func moduleListErrorIsAWarning() throws {
    let path = try TestData.decompressed("images/win10-19041-clean.raw.xz")
    let memory = try MemoryImageOpener.open(path: path)
    let system = try KernelDiscovery.discover(memory: memory)
    let image = try #require(system.kernel)
    let profile = try ProfileLoader.load(
      identity: image.pdb, symbolPath: SymbolPath.resolve(symbols: [], environment: [:]), offline: true,
      openPDB: { try PDBProfile(path: $0) })
    let real = CallbackAnalysis(kernel: Kernel(space: system.space, image: image, profile: profile), build: 19041)
    #expect(real.warnings.isEmpty, "\(real.warnings)")
    #expect(!real.modules.isEmpty)

    let without = ProfileWithout(base: profile, removed: ["PsLoadedModuleList"])
    let analysis = CallbackAnalysis(kernel: Kernel(space: system.space, image: image, profile: without), build: 19041)
    #expect(analysis.modules.isEmpty)
    #expect(
      analysis.warnings.contains {
        $0.hasPrefix("PsLoadedModuleList: ") && $0.contains("symbol PsLoadedModuleList is not in the kernel profile")
      }, "\(analysis.warnings)")
    let truth = try #require(
      try TestData.json(TestData.shared("images/win10-19041-clean.truth.json").path) as? [String: Any])
    let truthCallbacks = try #require(truth["callbacks"] as? [[String: Any]])
    // Without owners the table families' rows are flagged (unlinked-module) and so listed: they are
    // not the truth's callbacks.
    let registrations = analysis.results.filter { FamilyDescriptor.named($0.family)?.listing != .deviations }
    #expect(registrations.flatMap(\.entries).count == truthCallbacks.count)
  }
}
