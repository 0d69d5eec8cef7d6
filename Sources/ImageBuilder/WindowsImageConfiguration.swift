// The knobs of the synthetic Windows x64 scenario. Anything left nil is chosen from the seed, so one
// seed always gives the same image and different seeds move the DTB, self-map slot and KASLR base.

/// What `WindowsImageBuilder` plants; defaults describe a small Windows 10 19041 x64 machine.
public struct WindowsImageConfiguration: Sendable {
  /// Seed of every random choice (addresses, code bytes, decoys).
  public var seed: UInt64 = 1
  /// Physical memory size (the raw image's length).
  public var memorySize: UInt64 = 0x400_0000
  /// Unbacked physical ranges (default: the legacy VGA/BIOS hole 0xA0000–0x100000).
  public var holes: [Range<UInt64>] = [0x000A_0000..<0x0010_0000]
  /// Kernel CR3 (physical, page aligned); nil: a seeded page in 0x1A0000–0x1DF000 (Windows 10's System DTB is usually near 0x1AA000).
  public var dtb: UInt64?
  /// PML4 slot of the self-reference; nil: a seeded slot in 0x100–0x1FF other than 0x1ED and the kernel's slots.
  public var selfReferenceIndex: Int?
  /// Kernel image base (2 MiB aligned); nil: a seeded 0xfffff8xxxxx00000 address.
  public var kernelBase: UInt64?
  /// Bytes of the kernel mapped with 2 MiB pages before 4 KiB pages take over (a multiple of 2 MiB).
  public var largePageBytes: UInt64 = 0x20_0000
  /// PDB file name in the kernel's CodeView record.
  public var pdbName = "ntkrnlmp.pdb"
  /// PDB GUID in symbol-store order (any 32 hex digits: a GUID no symbol table has gives the
  /// unknown-GUID variant of a build).
  public var pdbGUID = "3177D31000BA7590DED335936C93E374"
  /// PDB age.
  public var pdbAge: UInt32 = 1
  /// File version major, minor, build, revision (also NtMajorVersion / NtMinorVersion / NtBuildNumber).
  public var version: [UInt16] = [10, 0, 19041, 1415]
  /// Physical address of the x64 low stub (PROCESSOR_START_BLOCK), in the first MiB.
  public var lowStubAddress: UInt64 = 0x1000
  /// Struct layouts used to write kernel structures.
  public var layouts: LayoutTable = .windows10x64
  /// A real build to mirror: SizeOfImage and the symbol RVAs the kernel's sections must cover (nil: a
  /// small kernel of about 2 MiB).
  public var kernelBuild: KernelBuildFacts?
  /// Write code for the registration routines' exports that references the kernel variables (and
  /// export the data variables), so the kernel can be read without symbols (needs `kernelBuild`).
  public var exportCode = false
  /// More code exports by name, each at its RVA in `kernelBuild` (e.g. `KeUserModeCallback`, which
  /// `trace` breaks on without symbols); the bytes there are the image's own.
  public var codeExports: [String] = []
  /// Plant decoys (a non-kernel driver mapped in kernel space, an unmapped PE copy, a random page).
  public var decoys = true

  public init(seed: UInt64 = 1) { self.seed = seed }

  /// `10.0.19041.1415`.
  public var versionString: String { version.map(String.init).joined(separator: ".") }
}
