// The benchmark suite: registers every CallScope benchmark with ordo-one/benchmark's runner.

import Benchmark

let benchmarks: @Sendable () -> Void = {
  Benchmark.defaultConfiguration = .init(
    metrics: [.wallClock, .cpuTotal, .peakMemoryResident, .mallocCountTotal, .throughput],
    maxDuration: .seconds(10), maxIterations: 20)
  DiscoveryBenchmarks.register()
  TranslationBenchmarks.register()
  SymbolBenchmarks.register()
  CallbacksBenchmarks.register()
  LocatorBenchmarks.register()
  CarveBenchmarks.register()
  WatchBenchmarks.register()
}
