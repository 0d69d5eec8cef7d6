// Symbol-less operation: locating every head from exports and code on the reference image, and
// `callbacks --no-symbols` end to end (to compare with the profile path of CallbacksBenchmarks).

import Benchmark
import Callbacks
import MemoryImage
import Reports
import Symbols
import WindowsKernel

enum LocatorBenchmarks {
  static func register() {
    let path = Holder<String>()
    Benchmark(
      "locator: every head from exports and code, reference image",
      configuration: .init(maxDuration: .seconds(10), maxIterations: 300),
      closure: { benchmark in
        let image = try path.get()
        let memory = try MemoryImageOpener.open(path: image)
        let system = try KernelDiscovery.discover(memory: memory)
        guard let kernelImage = system.kernel else { throw CheckFailed("no kernel found") }
        let bundle = try BundledProfiles.shipped()
        let version = ReportContext(memory: memory, system: system).build
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
          let located = try SymbolLessProfile.make(
            space: system.space, image: kernelImage, version: version, bundle: bundle)
          guard located.located.count > 40 else { throw CheckFailed("only \(located.located.count) located") }
          blackHole(located)
        }
      },
      setup: { path.set(try Fixtures.referenceImage()) })
    Benchmark(
      "callbacks: end to end, --no-symbols, reference image (JSON)",
      configuration: .init(maxDuration: .seconds(10), maxIterations: 300),
      closure: { benchmark in
        let image = try path.get()
        for _ in benchmark.scaledIterations { blackHole(try run(image)) }
      },
      setup: { path.set(try Fixtures.referenceImage()) })
  }

  /// CallbacksBenchmarks.run with the located profile in place of the bundled one.
  static func run(_ image: String) throws -> Int {
    try CallbacksBenchmarks.run(image) { system, kernelImage, version in
      let profile = try SymbolLessProfile.make(
        space: system.space, image: kernelImage, version: version, bundle: try BundledProfiles.shipped())
      return (profile, "pattern")
    }
  }
}
