// `callscope read IMAGE --va/--pa ADDR`: a hexdump (or raw bytes) of virtual or physical memory.

import AddressSpace
import ArgumentParser
import BinaryReading
import MemoryImage
import Reports
import WindowsKernel

struct ReadCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "read",
    abstract: "Dump virtual (--va) or physical (--pa) memory as a hexdump or raw bytes.",
    discussion: """
      With --va and no --dtb, the DTB is the one `info` reports (crash-dump header, ELF CPU note, or \
      scan). An unmapped or paged-out address is an error naming the level of the walk that failed.
      """)

  @OptionGroup var imageOptions: ImageOptions

  @Option(help: "Virtual address to read.")
  var va: Address?

  @Option(help: "Physical address to read.")
  var pa: Address?

  @Option(help: "Number of bytes (default 256, at most 64 MiB).")
  var length: Int = 256

  @Flag(help: "Write the bytes themselves to standard output.")
  var raw = false

  func validate() throws {
    guard (va == nil) != (pa == nil) else { throw ValidationError("give exactly one of --va or --pa") }
    guard length > 0, length <= 64 << 20 else { throw ValidationError("--length must be between 1 and 64 MiB") }
    if pa != nil, imageOptions.dtb != nil || imageOptions.paging != nil {
      throw ValidationError("--dtb and --paging apply to --va only")
    }
  }

  func run() throws {
    let memory = try imageOptions.open()
    let bytes: [UInt8]
    let start: UInt64
    if let pa {
      start = pa.value
      bytes = try memory.read(at: pa.value, count: length)
    } else if let va {
      start = va.value
      let space = try addressSpace(memory)
      bytes = try space.read(va.value, count: length)
    } else {
      return
    }
    if raw {
      Terminal.standardOutput.write(bytes)
    } else {
      Terminal.standardOutput.write(HexDump.render(bytes, startingAt: start))
    }
  }

  /// The address space for --va: explicit --dtb (and --paging), else what discovery finds.
  private func addressSpace(_ memory: any PhysicalMemory) throws -> VirtualAddressSpace {
    if let dtb = imageOptions.dtb {
      let mode = imageOptions.paging ?? memory.statedPagingMode ?? .x64FourLevel
      return VirtualAddressSpace(memory: memory, dtb: dtb.value, mode: mode)
    }
    let system = try KernelDiscovery.discover(memory: memory, options: imageOptions.discoveryOptions)
    return system.space
  }
}
