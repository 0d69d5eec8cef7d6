// Puts the pieces together for an image: paging mode and DTB (given, stated by the file, or
// found by scanning), then the kernel image. Each answer records where it came from.

import AddressSpace
import BinaryReading
import MemoryImage

/// What the analyst forced on the command line.
public struct DiscoveryOptions: Sendable {
  public var dtb: UInt64?
  public var paging: PagingMode?
  public var kernelBase: UInt64?
  public init(dtb: UInt64? = nil, paging: PagingMode? = nil, kernelBase: UInt64? = nil) {
    self.dtb = dtb
    self.paging = paging
    self.kernelBase = kernelBase
  }
}

/// The result of discovery: an address space and, when found, the kernel in it.
public struct DiscoveredSystem: Sendable {
  /// The kernel address space.
  public let space: VirtualAddressSpace
  /// Where the DTB came from: `option`, `crash-dump header`, `CPU note`, `scan: …`.
  public let dtbSource: String
  /// Where the paging mode came from.
  public let pagingSource: String
  /// The kernel, or nil with `kernelError` saying why.
  public let kernel: KernelImage?
  public let kernelError: WindowsKernelError?
  /// Other DTB candidates the scan ranked (best first).
  public let candidates: [DTBCandidate]
  /// Non-fatal problems met on the way.
  public let warnings: [String]
}

/// Finds the paging mode, DTB and kernel of a memory image.
public enum KernelDiscovery {
  /// Runs discovery; throws only when no DTB at all can be had.
  public static func discover(
    memory: any PhysicalMemory, options: DiscoveryOptions = DiscoveryOptions()
  ) throws(WindowsKernelError) -> DiscoveredSystem {
    var warnings: [String] = []
    var attempts: [(dtb: UInt64, mode: PagingMode, dtbSource: String, pagingSource: String)] = []
    var candidates: [DTBCandidate] = []
    let statedMode = memory.statedPagingMode
    let forcedMode = options.paging ?? statedMode
    let modeSource = options.paging != nil ? "option" : (statedMode != nil ? "image" : "inferred")

    if let dtb = options.dtb {
      let modes = forcedMode.map { [$0] } ?? [.x64FourLevel, .x64FiveLevel, .x86PAE, .x86]
      for mode in modes { attempts.append((dtb, mode, "option", modeSource)) }
    } else if let dtb = memory.statedDirectoryTableBase {
      let modes = forcedMode.map { [$0] } ?? [.x64FourLevel, .x86PAE, .x86]
      for mode in modes { attempts.append((dtb, mode, "image (\(memory.formatName))", modeSource)) }
    }
    if attempts.isEmpty || options.dtb == nil {
      let modes = forcedMode.map { [$0] } ?? PagingMode.allCases
      candidates = DTBScanner.scan(memory, modes: modes)
      for c in candidates {
        attempts.append((c.dtb, c.mode, "scan: \(c.reason)", forcedMode != nil ? modeSource : "inferred"))
      }
    }
    guard let first = attempts.first else {
      throw .noDirectoryTableBase(path: memory.path, detail: "no self-referencing page table or low stub found")
    }

    var firstError: WindowsKernelError?
    for attempt in attempts.prefix(8) {
      let space = VirtualAddressSpace(memory: memory, dtb: attempt.dtb, mode: attempt.mode)
      do {
        let kernel: KernelImage
        if let base = options.kernelBase {
          kernel = try KernelLocator.validate(space: space, base: base)
        } else {
          kernel = try KernelLocator.locate(
            space: space, hints: hints(for: memory, candidates: candidates, dtb: attempt.dtb))
        }
        return DiscoveredSystem(
          space: space, dtbSource: attempt.dtbSource, pagingSource: attempt.pagingSource, kernel: kernel,
          kernelError: nil, candidates: candidates, warnings: warnings)
      } catch {
        if firstError == nil { firstError = error }
        warnings.append("DTB \(Hex.format(attempt.dtb)) (\(attempt.mode.rawValue)): \(error)")
      }
    }
    let space = VirtualAddressSpace(memory: memory, dtb: first.dtb, mode: first.mode)
    return DiscoveredSystem(
      space: space, dtbSource: first.dtbSource, pagingSource: first.pagingSource, kernel: nil,
      kernelError: firstError, candidates: candidates, warnings: warnings)
  }

  /// Kernel addresses that the image or the scan revealed, tried before a full search.
  private static func hints(for memory: any PhysicalMemory, candidates: [DTBCandidate], dtb: UInt64) -> [UInt64] {
    var result: [UInt64] = []
    // The x64 low stub's LmTarget is a kernel code address (when its CR3 is the DTB being tried).
    if let stub = DTBScanner.lowStub(memory), stub.cr3 & 0x000f_ffff_ffff_f000 == dtb, stub.lmTarget != 0 {
      result.append(stub.lmTarget)
    }
    _ = candidates
    if let header = memory.crashDumpHeader {
      for a in [header.psLoadedModuleList, header.kdDebuggerDataBlock, header.psActiveProcessHead] where a != 0 {
        result.append(a)
      }
    }
    return result
  }
}
