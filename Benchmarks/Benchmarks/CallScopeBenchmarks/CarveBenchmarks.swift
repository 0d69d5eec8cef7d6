// Carving: one PoolScanner pass over physical memory for every carver's tags (what `callbacks
// --carve` does before decoding), on a dense image (every page backed, the page cache warm after
// the first iteration) and on a 16 GiB sparse synthetic image (holes skipped), with all cores.
// Throughput is bytes of image per second; peak RSS must stay flat whatever the image size.

import Benchmark
import Callbacks
import MemoryImage
import WindowsKernel

enum CarveBenchmarks {
  static func register() {
    let tags = Set(CallbackCarver.tags.keys).union([ModuleCarver.tag])
    // The dense image holds the reference image's MmLd blocks; the synthetic one has no pool.
    for (label, dense, size) in [
      ("dense 1 GiB (reference + random)", true, UInt64(1) << 30),
      ("sparse synthetic 16 GiB", false, UInt64(16) << 30),
    ] {
      let memory = Holder<any PhysicalMemory>()
      Benchmark(
        "carve: pool scan, \(label), all cores",
        configuration: .init(
          metrics: [.wallClock, .cpuTotal, .peakMemoryResident, .throughput], scalingFactor: .one,
          maxDuration: .seconds(20), maxIterations: 10),
        closure: { benchmark in
          let image = try memory.get()
          for _ in benchmark.scaledIterations {
            let hits = PoolScanner.scan(image, tags: tags, jobs: PoolScanner.defaultJobs)
            guard !dense || hits.contains(where: { $0.tag == ModuleCarver.tag }) else {
              throw CheckFailed("no MmLd block")
            }
            blackHole(hits)
          }
        },
        setup: {
          let path = dense ? try Fixtures.denseImage(size: size) : try Fixtures.syntheticImage(size: size)
          memory.set(try MemoryImageOpener.open(path: path))
        })
    }
  }
}
