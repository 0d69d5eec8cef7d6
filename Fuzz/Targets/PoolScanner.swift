// Pool block headers: the pool-tag scan (x64 and x86 headers) over an input split into two
// physical ranges with a hole, so chunk planning across ranges is exercised too.

import WindowsKernel

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPoolScanner(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let bytes = fuzzBytes(data, size)
  let split = bytes.isEmpty ? 0 : Int(le(bytes, 0, UInt16.self)) % bytes.count
  let memory = FuzzMemory([(0, Array(bytes[..<split])), (0x10_0000 + UInt64(split % 64), Array(bytes[split...]))])
  let tags: Set<String> = ["CBRe", "Cbrb", "Proc", "Driv", "Pnp9"]
  for pointerSize in [8, 4] {
    let hits = PoolScanner.scan(memory, tags: tags, pointerSize: pointerSize, jobs: 1, chunkSize: 4096)
    for hit in hits.prefix(64) { _ = try? memory.read(at: hit.header, count: max(0, min(hit.blockSize, 0x100))) }
  }
  return 0
}
