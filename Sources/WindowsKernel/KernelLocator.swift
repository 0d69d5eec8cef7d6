// Finds ntoskrnl in kernel space: a PE header whose CodeView record names one of the kernel's
// PDBs, looked for only in pages the page tables map (never by probing every address).

import AddressSpace
import BinaryReading
import MemoryImage
import PortableExecutable
import Symbols

/// Locates and validates the ntoskrnl image in a kernel address space.
public enum KernelLocator {
  /// PDB names of the kernel flavours (uniprocessor / multiprocessor, PAE / not).
  public static let kernelPDBNames: Set<String> = ["ntkrnlmp.pdb", "ntoskrnl.pdb", "ntkrnlpa.pdb", "ntkrpamp.pdb"]

  /// The kernel half of the address space for a paging mode.
  public static func kernelRange(_ mode: PagingMode) -> ClosedRange<UInt64> {
    switch mode {
    case .x64FourLevel: return 0xffff_8000_0000_0000...UInt64.max
    case .x64FiveLevel: return 0xff00_0000_0000_0000...UInt64.max
    case .x86, .x86PAE: return 0x8000_0000...0xffff_ffff
    }
  }

  /// Checks that an ntoskrnl PE starts at `base` and reads its identity.
  public static func validate(space: VirtualAddressSpace, base: UInt64) throws(WindowsKernelError) -> KernelImage {
    let header: [UInt8]
    do { header = try space.read(base, count: 0x1000) } catch {
      throw .notAKernel(address: base, detail: error.description)
    }
    guard let probe = PEImage.probeHeader(header) else {
      throw .notAKernel(address: base, detail: "no MZ/PE header")
    }
    let source = VirtualByteSource(
      space: space, base: base, size: UInt64(probe.sizeOfImage), name: "kernel image at \(Hex.format(base))")
    let pe: PEImage
    do { pe = try PEImage(source: source, layout: .mapped) } catch {
      throw .notAKernel(address: base, detail: error.description)
    }
    let cv: CodeViewRecord
    do {
      guard let record = try pe.codeView() else {
        throw WindowsKernelError.notAKernel(address: base, detail: "no CodeView record")
      }
      cv = record
    } catch let e as WindowsKernelError {
      throw e
    } catch {
      throw .notAKernel(address: base, detail: "debug directory unreadable: \(error)")
    }
    let pdbName = Self.fileName(of: cv.pdbPath).lowercased()
    guard kernelPDBNames.contains(pdbName) else {
      throw .notAKernel(address: base, detail: "PDB is \(cv.pdbPath), not a kernel PDB")
    }
    let version = (try? pe.versionInfo())??.fixed?.fileVersion.description
    return KernelImage(
      base: base, size: UInt64(pe.optionalHeader.sizeOfImage),
      pdb: PDBIdentity(name: pdbName, guid: cv.guidString, age: cv.age), pdbPath: cv.pdbPath,
      fileVersion: version, machine: pe.fileHeader.machine, timeDateStamp: pe.fileHeader.timeDateStamp)
  }

  /// Searches kernel space for the ntoskrnl image. `hints` are kernel addresses believed to lie inside
  /// ntoskrnl (e.g. the low stub's LmTarget, a crash-dump header's PsLoadedModuleList); they are tried
  /// first by stepping back page by page.
  public static func locate(space: VirtualAddressSpace, hints: [UInt64] = []) throws(WindowsKernelError) -> KernelImage
  {
    for hint in hints {
      if let found = searchBackward(space: space, from: hint, limit: 64 << 20) { return found }
    }
    let range = kernelRange(space.mode)
    // Pass 1: 2 MiB-aligned starts (Windows 10+ maps ntoskrnl with large pages); pass 2: every 4 KiB page.
    // A pass that finds two kernel images at different bases has no way to choose: the user must.
    for alignment: UInt64 in [0x20_0000, 0x1000] {
      var found: [KernelImage] = []
      space.forEachMappedPage(in: range) { t in
        var va = t.virtual
        let end = t.virtual &+ t.pageSize  // leaves never wrap: kernel range ends at the top
        if va % alignment != 0 { va = (va / alignment &+ 1) &* alignment }
        while va < end || (end == 0 && va >= t.virtual) {
          if Self.looksLikeMZ(space: space, translation: t, va: va), let image = try? validate(space: space, base: va),
            !found.contains(where: { $0.base == image.base })
          {
            found.append(image)
            if found.count >= 4 { return false }  // enough to report the ambiguity
          }
          let (next, overflow) = va.addingReportingOverflow(alignment)
          if overflow { break }
          va = next
        }
        return true
      }
      if found.count == 1, let only = found.first { return only }
      if found.count > 1 {
        throw .ambiguousKernel(
          path: space.memory.path,
          candidates: found.map { "\(Hex.format($0.base)) (\($0.pdb.name) \($0.pdb.guid)-\($0.pdb.age))" })
      }
    }
    throw .kernelNotFound(
      path: space.memory.path, dtb: space.dtb,
      detail: "no PE whose CodeView record names ntkrnlmp/ntoskrnl/ntkrnlpa/ntkrpamp.pdb")
  }

  private static func searchBackward(space: VirtualAddressSpace, from hint: UInt64, limit: UInt64) -> KernelImage? {
    var va = hint & ~0xfff
    var stepped: UInt64 = 0
    while stepped <= limit {
      if let word = try? space.readUInt16(va), word == 0x5a4d, let image = try? validate(space: space, base: va) {
        return image.contains(hint) ? image : nil
      }
      guard va >= 0x1000 else { return nil }
      va -= 0x1000
      stepped += 0x1000
    }
    return nil
  }

  /// Cheap check of the first two bytes through the leaf already translated.
  private static func looksLikeMZ(space: VirtualAddressSpace, translation t: Translation, va: UInt64) -> Bool {
    let pa = t.physical &+ (va &- t.virtual)  // va lies inside the leaf, so both are in range
    guard let word = try? space.memory.readUInt32(at: pa) else { return false }
    return word & 0xffff == 0x5a4d
  }

  private static func fileName(of path: String) -> String {
    let parts = path.split(whereSeparator: { $0 == "\\" || $0 == "/" })
    return parts.last.map(String.init) ?? path
  }
}
