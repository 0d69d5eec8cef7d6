// KDDEBUGGER_DATA64, the kernel's debugger data block (KdDebuggerDataBlock): not in the kernel's
// PDB types, its layout is the public one of the Debugging Tools' wdbgexts.h (DBGKD_DEBUG_DATA_HEADER64
// {LIST_ENTRY64 List; ULONG OwnerTag; ULONG Size}, then KernBase, … PsLoadedModuleList at 0x48,
// PsActiveProcessHead at 0x50, … MmPfnDatabase at 0xC0; the same for every x64 build). Since
// Windows 8 the running kernel keeps it encoded (KdpDataBlockEncoded); a plaintext block is
// recognised by its 'KDBG' tag and its KernBase.

import BinaryReading

/// The x64 debugger data block's header and the members CallScope reads.
public enum DebuggerDataBlock {
  /// 'KDBG' (DBGKD_DEBUG_DATA_HEADER64.OwnerTag).
  public static let ownerTag: UInt32 = 0x4742_444B
  static let ownerTagOffset: UInt64 = 0x10
  static let sizeOffset: UInt64 = 0x14
  static let kernBaseOffset: UInt64 = 0x18
  public static let psLoadedModuleListOffset: UInt64 = 0x48
  public static let psActiveProcessHeadOffset: UInt64 = 0x50
  /// The address of the MmPfnDatabase variable.
  public static let mmPfnDatabaseOffset: UInt64 = 0xC0

  /// Why the block at `address` is not a plaintext KDDEBUGGER_DATA64 of the kernel at `kernelBase`
  /// (nil when it is one).
  public static func rejection(at address: UInt64, kernelBase: UInt64, in kernel: Kernel) -> String? {
    do {
      let tag = try kernel.readUnsigned(address &+ ownerTagOffset, width: 4)
      guard tag == UInt64(ownerTag) else {
        return "no 'KDBG' tag at +0x10 (\(Hex.format(tag))): the block is encoded or absent"
      }
      let size = try kernel.readUnsigned(address &+ sizeOffset, width: 4)
      guard size > mmPfnDatabaseOffset, size <= 0x1000 else { return "implausible Size \(Hex.format(size))" }
      let base = try kernel.readPointer(address &+ kernBaseOffset)
      guard base == kernelBase else {
        return "KernBase \(Hex.format(base)) is not the kernel's base \(Hex.format(kernelBase))"
      }
      return nil
    } catch {
      return "unreadable: \(error)"
    }
  }
}
