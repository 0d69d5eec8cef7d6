// List walks over hostile memory: raw LIST_ENTRY walks both ways, the recovering walk (pointer and
// 32-bit links), null-terminated chains, EX_FAST_REF arrays, C strings and GUIDs, and the kernel's
// process and module lists (with each process's VAD tree and loader list), all through valid page
// tables over the input.

import AddressSpace
import WindowsKernel

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzListWalk(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let bytes = fuzzBytes(data, size)
  let kernel = FuzzKernel.kernel(bytes)
  let head = HostileSpace.kernelBase &+ UInt64(le(bytes, 0x48, UInt16.self))
  _ = kernel.space.listEntries(head: head, bound: 4096, forward: true)
  _ = kernel.space.listEntries(head: head, bound: 4096, forward: false)
  _ = kernel.space.recoveredList(head: HostileSpace.kernelBase, bound: 4096, what: "fuzz")
  _ = kernel.space.recoveredList(head: head, bound: 4096, what: "fuzz32", linkWidth: 4)
  _ = kernel.space.chain(head: head, nextOffset: UInt64(bytes.count > 0x4a ? bytes[0x4a] : 0), bound: 4096)
  _ = try? kernel.space.fastRefSlots(at: head, count: 64)
  _ = try? kernel.space.readCString(at: head, limit: 300)
  _ = try? kernel.space.readGUID(at: head)
  _ = try? ModuleList.read(kernel)
  if let (processes, _) = try? ProcessList.read(kernel) {
    for process in processes.prefix(4) {
      _ = try? VadTree.read(process, kernel: kernel, bound: 4096)
      _ = try? ProcessModules.native(process, kernel: kernel)
      _ = try? ProcessModules.wow64(process, kernel: kernel)
    }
  }
  return 0
}
