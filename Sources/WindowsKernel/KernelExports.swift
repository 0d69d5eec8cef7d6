// ntoskrnl's export table read from memory, for the families that name routines by address (the
// service table) or start from an exported routine's code (the Zw stubs that carry service numbers).

import BinaryReading
import PortableExecutable

/// The kernel's exports, by name and by address.
public struct KernelExports: Sendable {
  /// RVA of each exported name (aliases included; forwarders left out).
  public let rvaByName: [String: UInt64]
  /// The exported names at each RVA, sorted.
  public let namesByRVA: [UInt64: [String]]

  /// Reads the export table of the ntoskrnl image mapped at `kernel.image.base`.
  public init(_ kernel: Kernel) throws(WindowsKernelError) {
    let image = kernel.image
    let source = VirtualByteSource(space: kernel.space, base: image.base, size: image.size, name: "ntoskrnl in memory")
    let exports: PEExports
    do { exports = try PEImage(source: source, layout: .mapped).exports() } catch {
      throw .implausible(
        address: image.base, structure: "ntoskrnl export directory", detail: "unreadable: \(error)")
    }
    self.init(exports)
  }

  /// The name maps of an export directory already read (forwarders left out).
  public init(_ exports: PEExports) {
    var byName: [String: UInt64] = [:]
    var byRVA: [UInt64: [String]] = [:]
    for entry in exports.entries where !entry.isForwarder {
      for name in [entry.name].compactMap({ $0 }) + entry.aliases {
        byName[name] = UInt64(entry.rva)
        byRVA[UInt64(entry.rva), default: []].append(name)
      }
    }
    rvaByName = byName
    namesByRVA = byRVA.mapValues { $0.sorted() }
  }
}
