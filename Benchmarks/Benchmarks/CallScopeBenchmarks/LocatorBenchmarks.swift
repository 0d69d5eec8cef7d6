// Symbol-less operation: locating every head from exports and code on the reference image, and
// `callbacks --no-symbols` end to end (to compare with the profile path of CallbacksBenchmarks).

import Analysis
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
      configuration: .init(maxDuration: .seconds(10), maxIterations: 30),
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
      configuration: .init(maxDuration: .seconds(10), maxIterations: 30),
      closure: { benchmark in
        let image = try path.get()
        for _ in benchmark.scaledIterations { blackHole(try run(image)) }
      },
      setup: { path.set(try Fixtures.referenceImage()) })
  }

  /// CallbacksBenchmarks.run with the located profile in place of the bundled one.
  static func run(_ image: String) throws -> Int {
    let memory = try MemoryImageOpener.open(path: image)
    let system = try KernelDiscovery.discover(memory: memory)
    guard let kernelImage = system.kernel else { throw CheckFailed("no kernel found") }
    let context = ReportContext(memory: memory, system: system, symbolSource: "pattern")
    let profile = try SymbolLessProfile.make(
      space: system.space, image: kernelImage, version: context.build, bundle: try BundledProfiles.shipped())
    let kernel = Kernel(space: system.space, image: kernelImage, profile: profile)
    let modules = (try? ModuleList.read(kernel))?.modules ?? []
    var hidden: [LoadedModule] = []
    if let manager = try? ObjectManager(kernel: kernel) {
      hidden = DriverObjectModules.modules(DriverObjectModules.read(manager).drivers, excluding: modules)
    }
    let build = Int(context.build?.split(separator: ".").dropFirst(2).first ?? "") ?? 0
    let results = CallbackScanner.scan(CallbackContext(kernel: kernel, build: build))
    guard results.contains(where: { !$0.entries.isEmpty }) else { throw CheckFailed("no callback found") }
    let verdicts = CallbackVerdicts(results: results, kernel: kernel, modules: modules, hidden: hidden)
    return CallbacksReport(context: context, results: results, verdicts: verdicts).rendered(.json).utf8.count
  }
}
