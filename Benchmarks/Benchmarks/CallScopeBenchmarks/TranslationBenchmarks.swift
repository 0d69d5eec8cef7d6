// Random 8-byte virtual reads through the translation cache: VirtualAddressSpace.readUInt64 over a
// shuffled set of mapped kernel addresses (the kernel image's pages of the reference image), one
// million reads per iteration, so `throughput` reads in M/s.

import AddressSpace
import Benchmark
import ImageBuilder
import MemoryImage
import WindowsKernel

enum TranslationBenchmarks {
  /// The space and the addresses to read.
  struct Input {
    var space: VirtualAddressSpace
    var addresses: [UInt64]
  }

  /// Number of distinct addresses (spread over the mapped pages of the kernel image).
  static let addressCount = 4096

  static func register() {
    let input = Holder<Input>()
    Benchmark(
      "virtual read: random readUInt64, cached translations",
      configuration: .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal, .instructions], scalingFactor: .mega,
        maxDuration: .seconds(10), maxIterations: 30),
      closure: { benchmark in
        let input = try input.get()
        let addresses = input.addresses
        let space = input.space
        var sum: UInt64 = 0
        var i = 0
        for _ in benchmark.scaledIterations {
          sum ^= try space.readUInt64(addresses[i])
          i = (i &+ 1) & (addressCount - 1)  // addressCount is a power of two
        }
        blackHole(sum)
      },
      setup: { input.set(try makeInput()) })

    // The same reads with every translation walked again (4 levels, or 3 for a 2 MiB page): what
    // the cache saves.
    let uncached = Holder<Input>()
    Benchmark(
      "virtual read: random 8-byte reads, translation uncached",
      configuration: .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal, .instructions], scalingFactor: .mega,
        maxDuration: .seconds(10), maxIterations: 10),
      closure: { benchmark in
        let input = try uncached.get()
        let addresses = input.addresses
        let space = input.space
        var sum: UInt64 = 0
        var i = 0
        for _ in benchmark.scaledIterations {
          sum ^= try space.memory.readUInt64(at: try space.translateUncached(addresses[i]).physical)
          i = (i &+ 1) & (addressCount - 1)  // addressCount is a power of two
        }
        blackHole(sum)
      },
      setup: { uncached.set(try makeInput()) })
  }

  /// Pages of the kernel image that translate, 8-byte aligned offsets in them, shuffled with a fixed seed.
  static func makeInput() throws -> Input {
    let memory = try MemoryImageOpener.open(path: try Fixtures.referenceImage())
    let system = try KernelDiscovery.discover(memory: memory)
    guard let kernel = system.kernel else { throw CheckFailed("no kernel found") }
    let space = system.space
    var pages: [UInt64] = []
    var va = kernel.base
    while va < kernel.base + kernel.size, pages.count < 2048 {
      if space.isMapped(va) { pages.append(va) }
      va += 0x1000
    }
    guard !pages.isEmpty else { throw CheckFailed("no mapped kernel page") }
    var rng = SeededGenerator(seed: 0x9E37_79B9_7F4A_7C15)
    func next() -> UInt64 { rng.next() }
    var addresses: [UInt64] = []
    for _ in 0..<addressCount {
      let page = pages[Int(next() % UInt64(pages.count))]
      addresses.append(page + (next() % 512) * 8)
    }
    // Warm the cache once so the benchmark measures hits (the cache holds 8192 pages).
    for a in addresses { _ = try space.readUInt64(a) }
    return Input(space: space, addresses: addresses)
  }
}
