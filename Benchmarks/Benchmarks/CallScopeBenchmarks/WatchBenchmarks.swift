// One `callscope watch` tick over a 4 GiB guest RAM file (the clean reference image's 256 MiB, then
// a hole to 4 GiB): a fresh kernel address space, every family with owners and verdicts, the
// modules, the processes and their KernelCallbackTables, and the re-read of every page the tick
// kept (the smear check). Discovery and the profile are made once, in setup, as `watch` does.

import AddressSpace
import Analysis
import Benchmark
import Foundation
import Live
import Symbols
import WindowsKernel

enum WatchBenchmarks {
  struct Prepared {
    let ram: GuestRAM
    let kernel: Kernel
    let build: Int
  }

  static func register() {
    let prepared = Holder<Prepared>()
    Benchmark(
      "watch: one tick, 4 GiB guest RAM file",
      configuration: .init(maxDuration: .seconds(10), maxIterations: 200),
      closure: { benchmark in
        let p = try prepared.get()
        for _ in benchmark.scaledIterations { blackHole(try tick(p)) }
      },
      setup: { prepared.set(try prepare()) })
  }

  /// The reference image padded to 4 GiB, opened as guest RAM, with its kernel found.
  static func prepare() throws -> Prepared {
    let out = Fixtures.cacheDirectory + "/watch-clean-4096MiB.raw"
    if !FileManager.default.fileExists(atPath: out) {
      let source = try Fixtures.referenceImage()
      try Fixtures.shell(
        "cp --sparse=always '\(source)' '\(out).part' && truncate -s 4G '\(out).part' && mv '\(out).part' '\(out)'")
    }
    let ram = try GuestRAM(path: out, layout: .flat(size: 4 << 30))
    let system = try KernelDiscovery.discover(memory: ram)
    guard let image = system.kernel else { throw CheckFailed("no kernel found") }
    let profile = try ProfileLoader.load(
      identity: image.pdb, symbolPath: try SymbolPath.resolve(symbols: [], environment: [:]), offline: true,
      openPDB: { try PDBProfile(path: $0) })
    let build = Int(image.fileVersion?.split(separator: ".").dropFirst(2).first ?? "") ?? 0
    return Prepared(ram: ram, kernel: Kernel(space: system.space, image: image, profile: profile), build: build)
  }

  /// One tick; returns the number of callbacks (checked non-zero so the tick measured real work).
  static func tick(_ p: Prepared) throws -> Int {
    try p.ram.checkSource()
    p.ram.beginTick()
    let space = VirtualAddressSpace(memory: p.ram, dtb: p.kernel.space.dtb, mode: p.kernel.space.mode)
    let kernel = Kernel(space: space, image: p.kernel.image, profile: p.kernel.profile)
    let snapshot = WatchSnapshot(reading: kernel, build: p.build)
    guard try p.ram.endTick() == 0 else { throw CheckFailed("the file changed during the tick") }
    guard !snapshot.callbacks.isEmpty, !snapshot.processes.isEmpty else { throw CheckFailed("nothing read") }
    return snapshot.callbacks.count
  }
}
