// The page-table walker over a hostile physical image: the input is the image (its first bytes
// choose the paging mode and the table root), translated and read at addresses the input names;
// then the DTB scanner searches the same image.

import AddressSpace
import MemoryImage

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPageWalker(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let bytes = fuzzBytes(data, size)
  let modes: [PagingMode] = [.x64FourLevel, .x64FiveLevel, .x86PAE, .x86]
  let mode = modes[Int(le(bytes, 0, UInt8.self)) % modes.count]
  let root: UInt64 = le(bytes, 8)
  let memory = FuzzMemory([(0, bytes)])
  let space = VirtualAddressSpace(memory: memory, dtb: root, mode: mode, cacheCapacity: 16)
  // Addresses to translate: the words after the header, and each of them again through the cache.
  for i in 0..<16 {
    let va: UInt64 = le(bytes, 16 + 8 * i)
    _ = try? space.translateUncached(va)
    _ = try? space.translate(va)
    _ = space.isMapped(va)
    _ = try? space.read(va, count: 0x1800)  // crosses a page boundary
  }
  _ = DTBScanner.lowStub(memory)
  _ = DTBScanner.scan(memory, limit: 2)
  return 0
}
