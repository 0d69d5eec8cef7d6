// `callscope info` with nothing given: open an image (format detected from content) and discover
// the paging mode, DTB and kernel. On synthetic 256 MiB and 4 GiB images (to show the cost and the
// memory do not grow with the image) and on the reference image with the file already open.

import Benchmark
import ImageBuilder
import MemoryImage
import WindowsKernel

enum DiscoveryBenchmarks {
  static func register() {
    for (label, size) in [("256 MiB", UInt64(256) << 20), ("4 GiB", UInt64(4) << 30)] {
      let path = Holder<String>()
      Benchmark(
        "info: open + discover, synthetic \(label)",
        configuration: .init(maxDuration: .seconds(10), maxIterations: 50),
        closure: { benchmark in
          let image = try path.get()
          for _ in benchmark.scaledIterations {
            let memory = try MemoryImageOpener.open(path: image)
            let system = try KernelDiscovery.discover(memory: memory)
            guard system.kernel != nil else { throw CheckFailed("no kernel found") }
            blackHole(system)
          }
        },
        setup: { path.set(try Fixtures.syntheticImage(size: size)) })
    }

    let memory = Holder<any PhysicalMemory>()
    Benchmark(
      "discovery: DTB + kernel, reference image (open once)",
      configuration: .init(maxDuration: .seconds(10), maxIterations: 100),
      closure: { benchmark in
        let image = try memory.get()
        for _ in benchmark.scaledIterations {
          let system = try KernelDiscovery.discover(memory: image)
          guard system.kernel != nil else { throw CheckFailed("no kernel found") }
          blackHole(system)
        }
      },
      setup: { memory.set(try MemoryImageOpener.open(path: try Fixtures.referenceImage())) })
  }
}
