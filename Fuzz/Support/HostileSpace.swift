// A well-formed x64 address space whose mapped memory is the fuzz input: page tables this file
// writes map the input at a kernel and at a user address, so targets that walk kernel structures
// (lists, PEB, VADs, callback tables) see hostile contents through valid translations.

import AddressSpace
import MemoryImage

/// The input mapped twice with 2 MiB pages: at `kernelBase` and at `userBase`.
enum HostileSpace {
  static let kernelBase: UInt64 = 0xFFFF_F800_0000_0000
  static let userBase: UInt64 = 0x1000_0000
  /// Physical address of the input's first byte.
  static let dataPhysical: UInt64 = 0x20_0000
  static let largePage: UInt64 = 0x20_0000

  /// Page tables (PML4 at 0, PDPTs at 0x1000/0x3000, PDs at 0x2000/0x4000) and the input.
  static func memory(_ input: [UInt8]) -> FuzzMemory {
    var tables = [UInt8](repeating: 0, count: 0x5000)
    func put(_ table: Int, _ index: UInt64, _ value: UInt64) {
      for i in 0..<8 { tables[table + Int(index) * 8 + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
    }
    let present: UInt64 = 0x7  // present, writable, user
    put(0, (kernelBase >> 39) & 0x1FF, 0x1000 | present)
    put(0, (userBase >> 39) & 0x1FF, 0x3000 | present)
    put(0x1000, (kernelBase >> 30) & 0x1FF, 0x2000 | present)
    put(0x3000, (userBase >> 30) & 0x1FF, 0x4000 | present)
    let pages = (UInt64(input.count) + largePage - 1) / largePage
    for i in 0..<pages {
      let pde = (dataPhysical + i * largePage) | present | 0x80  // PS: a 2 MiB page
      put(0x2000, ((kernelBase >> 21) & 0x1FF) + i, pde)
      put(0x4000, ((userBase >> 21) & 0x1FF) + i, pde)
    }
    return FuzzMemory([(0, tables), (dataPhysical, input)])
  }

  static func space(_ input: [UInt8]) -> VirtualAddressSpace {
    VirtualAddressSpace(memory: memory(input), dtb: 0, mode: .x64FourLevel, cacheCapacity: 64)
  }
}
