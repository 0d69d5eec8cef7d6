// `callscope callbacks --offline IMAGE` end to end, in process: open, discover, load the profile
// (offline: the bundled one), read modules and driver objects, scan every family, judge, render JSON.

import Analysis
import Benchmark
import Callbacks
import MemoryImage
import Reports
import Symbols
import WindowsKernel

enum CallbacksBenchmarks {
  static func register() {
    let path = Holder<String>()
    Benchmark(
      "callbacks: end to end, reference image (JSON)",
      configuration: .init(maxDuration: .seconds(10), maxIterations: 300),
      closure: { benchmark in
        let image = try path.get()
        for _ in benchmark.scaledIterations { blackHole(try run(image)) }
      },
      setup: { path.set(try Fixtures.referenceImage()) })
  }

  /// The same steps as CallbacksCommand with `--offline --format json`; returns the report's length.
  static func run(_ image: String) throws -> Int {
    try run(image) { _, kernelImage, _ in
      let profile = try ProfileLoader.load(
        identity: kernelImage.pdb, symbolPath: try SymbolPath.resolve(symbols: [], environment: [:]), offline: true,
        openPDB: { try PDBProfile(path: $0) })
      return (profile, profile.source.rawValue)
    }
  }

  /// CallbacksCommand's steps with the kernel's profile (and the report's symbol source) from
  /// `profile`, given the discovered system, the kernel and its version string: open, discover,
  /// modules, driver objects, every family, verdicts, JSON. Returns the report's length.
  static func run(
    _ image: String,
    profile: (DiscoveredSystem, KernelImage, String?) throws -> (profile: any KernelProfile, source: String)
  ) throws -> Int {
    let memory = try MemoryImageOpener.open(path: image)
    let system = try KernelDiscovery.discover(memory: memory)
    guard let kernelImage = system.kernel else { throw CheckFailed("no kernel found") }
    let (kernelProfile, source) = try profile(system, kernelImage, ReportContext(memory: memory, system: system).build)
    let kernel = Kernel(space: system.space, image: kernelImage, profile: kernelProfile)
    let modules = (try? ModuleList.read(kernel))?.modules ?? []
    var hidden: [LoadedModule] = []
    if let manager = try? ObjectManager(kernel: kernel) {
      hidden = DriverObjectModules.modules(DriverObjectModules.read(manager).drivers, excluding: modules)
    }
    let context = ReportContext(memory: memory, system: system, symbolSource: source)
    let build = Int(context.build?.split(separator: ".").dropFirst(2).first ?? "") ?? 0
    let results = CallbackScanner.scan(CallbackContext(kernel: kernel, build: build))
    guard results.contains(where: { !$0.entries.isEmpty }) else { throw CheckFailed("no callback found") }
    let verdicts = CallbackVerdicts(results: results, kernel: kernel, modules: modules, hidden: hidden)
    return CallbacksReport(context: context, results: results, verdicts: verdicts).rendered(.json).utf8.count
  }
}
