// The translation cache: bounded capacity, hits and collisions, and agreement under concurrent
// readers and writers sharing a tiny cache.

import MemoryImage
import Testing

@testable import AddressSpace

@Suite struct TranslationCacheTests {
  @Test func capacityIsBoundedPowerOfTwo() {
    #expect(TranslationCache(capacity: 0).capacity == 16)
    #expect(TranslationCache(capacity: 1000).capacity == 1024)
    #expect(TranslationCache(capacity: Int.max).capacity == 1 << 20)
  }

  @Test func hitMissAndCollision() {
    let cache = TranslationCache(capacity: 16)
    #expect(cache.lookup(5) == nil)
    cache.store(.init(tag: 5, frame: 0x5000, pageSize: 0x1000, flags: 3))
    let hit = cache.lookup(5)
    #expect(hit?.frame == 0x5000 && hit?.pageSize == 0x1000 && hit?.flags == 3)
    cache.store(.init(tag: 21, frame: 0x7000, pageSize: 0x4000_0000, flags: 9))  // 21 % 16 == 5: evicts
    #expect(cache.lookup(5) == nil)
    #expect(cache.lookup(21)?.pageSize == 0x4000_0000)
    #expect(cache.lookup(21)?.flags == 9)
  }

  @Test func concurrentWalksThroughATinyCacheAgree() async {
    // 64 pages of 4 KiB, page i at physical 0x10_0000 + i * 0x1000 holding (i, offset) words.
    var m = MemoryBuilder(size: 0x20_0000)
    m.put64(0x1000, 0x2000 | PTE.prw)
    m.put64(0x2000, 0x3000 | PTE.prw)
    m.put64(0x3000, 0x4000 | PTE.prw)
    for i in 0..<64 {
      let frame = UInt64(0x10_0000 + (63 - i) * 0x1000)  // reversed, so a stale slot gives a wrong value
      m.put64(0x4000 + UInt64(i) * 8, frame | PTE.prw)
      for o in stride(from: 0, to: 0x1000, by: 0x100) { m.put64(frame + UInt64(o), UInt64(i) << 32 | UInt64(o)) }
    }
    let space = VirtualAddressSpace(memory: m.memory(), dtb: 0x1000, mode: .x64FourLevel, cacheCapacity: 16)
    let ok = await withTaskGroup(of: Bool.self) { group in
      for task in 0..<4 {
        group.addTask {
          var state = UInt64(task + 1) &* 0x9e37_79b9_7f4a_7c15
          for _ in 0..<20_000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let page = (state >> 33) % 64
            let offset = ((state >> 20) % 16) * 0x100
            guard let v = try? space.readUInt64(page << 12 | offset), v == page << 32 | offset else { return false }
          }
          return true
        }
      }
      return await group.reduce(true) { $0 && $1 }
    }
    #expect(ok)
  }
}
