// The Windows build as the kernel itself states it in KUSER_SHARED_DATA, which is mapped at a
// fixed address in every build (so it can be read before any symbols are known).

import AddressSpace
import MemoryImage

/// Reads NtMajorVersion / NtMinorVersion / NtBuildNumber from KUSER_SHARED_DATA.
public enum SharedUserData {
  /// Kernel-mode address of KUSER_SHARED_DATA.
  public static func address(for mode: PagingMode) -> UInt64 {
    mode.pointerSize == 8 ? 0xffff_f780_0000_0000 : 0xffdf_0000
  }

  /// `major.minor.build` from KUSER_SHARED_DATA; offsets 0x26c / 0x270 / 0x260 are the same on every
  /// build from Windows 7 on (public _KUSER_SHARED_DATA layout: NtBuildNumber +0x260,
  /// NtMajorVersion +0x26c, NtMinorVersion +0x270).
  public static func version(in space: VirtualAddressSpace) -> (major: UInt32, minor: UInt32, build: UInt32)? {
    let base = address(for: space.mode)
    guard let major = try? space.readUInt32(base + 0x26c), let minor = try? space.readUInt32(base + 0x270),
      let build = try? space.readUInt32(base + 0x260), (5...10).contains(major), minor < 10
    else { return nil }
    return (major, minor, build & 0xffff)  // the high nibble marks checked/free builds
  }
}
