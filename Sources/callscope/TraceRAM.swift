// `trace --ram FILE`: guest memory read from the guest's RAM file (QEMU memory-backend-file or memfd,
// opened as `watch` opens it) instead of with `m` packets; the stub still gives the registers. Each
// stop's CR3 selects the address space, walked with the paging mode the CPU is in (EFER.LMA, CR4.PAE
// and CR4.LA57; Intel SDM vol. 3A §4.1.1), and every stop starts with an empty translation cache,
// because the guest ran (and may have rewritten its tables) since the last one.

import AddressSpace
import GDBRemote
import Live
import MemoryImage

/// Guest RAM and the address space of the stopped CPU.
final class TraceRAM {
  let ram: GuestRAM
  let mode: PagingMode
  /// Where the RAM layout came from (`flat`, `--ram-layout pc`, `QMP info mtree (backend ram)`).
  let layoutSource: String
  private(set) var space: VirtualAddressSpace

  /// Translations kept per stop (a hit reads a few dozen pages).
  static let cachePages = 256

  init(ram: GuestRAM, layoutSource: String, mode: PagingMode, cr3: UInt64) {
    self.ram = ram
    self.mode = mode
    self.layoutSource = layoutSource
    space = VirtualAddressSpace(memory: ram, dtb: cr3, mode: mode, cacheCapacity: Self.cachePages)
  }

  /// The CPU stopped with `cr3`: later reads go through its tables, translated afresh.
  func stopped(cr3: UInt64) {
    space = VirtualAddressSpace(memory: ram, dtb: cr3, mode: mode, cacheCapacity: Self.cachePages)
  }

  /// `count` bytes at `va` in the current address space.
  func read(_ va: UInt64, count: Int) throws(TranslationError) -> [UInt8] { try space.read(va, count: count) }

  /// The paging mode the stopped CPU is in, from its EFER and CR4 (`p` packets).
  static func pagingMode(_ client: GDBClient) throws -> PagingMode {
    let efer = try client.readRegister("efer")
    let cr4 = try client.readRegister("cr4")
    let longMode: UInt64 = 1 << 10  // EFER.LMA
    let pae: UInt64 = 1 << 5  // CR4.PAE
    let la57: UInt64 = 1 << 12  // CR4.LA57
    if efer & longMode != 0 { return cr4 & la57 != 0 ? .x64FiveLevel : .x64FourLevel }
    return cr4 & pae != 0 ? .x86PAE : .x86
  }
}
