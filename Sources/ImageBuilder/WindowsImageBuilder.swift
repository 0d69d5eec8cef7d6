// The synthetic Windows x64 machine: kernel page tables with a randomised self-map slot, ntoskrnl
// mapped at a KASLR-like base (2 MiB pages, then 4 KiB pages, as Windows 10 maps it),
// KUSER_SHARED_DATA, the low stub, and decoys — plus the truth of what was planted. Hooks for more
// modules, pool allocations and processes are in WindowsImageBuilder+Hooks.swift.

/// Builds a small raw x64 Windows-like memory image, deterministic from a seed.
public final class WindowsImageBuilder {
  /// The physical memory being built.
  public let memory: PhysicalMemoryBuilder
  /// The kernel (System) address space.
  public let kernelTables: PageTableBuilder
  /// The configuration the image was built from.
  public let configuration: WindowsImageConfiguration
  /// What was planted so far.
  public internal(set) var truth: WindowsImageTruth
  /// The kernel image as built (both layouts).
  public let kernelImage: PEImage
  /// The export code written into the kernel (empty unless `configuration.exportCode`).
  public let exportCode: [ExportCodeRecord]
  var random: SeededGenerator
  /// Next free virtual address for `addModule`.
  var nextModuleBase: UInt64
  /// The pool region: next free byte and end of the mapped part.
  var poolNext: UInt64
  var poolMappedEnd: UInt64

  /// KUSER_SHARED_DATA's fixed kernel address on x64 (Windows Internals, 7th ed., ch. 5).
  public static let kuserSharedDataAddress: UInt64 = 0xFFFF_F780_0000_0000

  static func pml4Index(_ va: UInt64) -> Int { Int((va >> 39) & 0x1FF) }

  /// Builds the base scenario.
  public init(_ configuration: WindowsImageConfiguration = .init()) throws {
    self.configuration = configuration
    var random = SeededGenerator(seed: configuration.seed)
    let memory = try PhysicalMemoryBuilder(size: configuration.memorySize, holes: configuration.holes)
    self.memory = memory
    try memory.reserve(configuration.lowStubAddress & ~0xFFF, length: 0x1000)

    // Addresses chosen from the seed unless given.
    let dtb = configuration.dtb ?? (0x1A_0000 + (random.next() % 0x40) * 0x1000)
    let kernelBase = configuration.kernelBase ?? (0xFFFF_F800_0000_0000 + (0x100 + random.next() % 0x3F00) * 0x20_0000)
    guard kernelBase % 0x20_0000 == 0, configuration.largePageBytes % 0x20_0000 == 0 else {
      throw ImageBuilderError.misaligned(what: "kernel base", value: kernelBase, alignment: 0x20_0000)
    }
    guard kernelBase >= 0xFFFF_8000_0000_0000, kernelBase < 0xFFFF_FFFF_0000_0000 else {
      throw ImageBuilderError.badVirtualAddress(
        kernelBase, mode: "x64-4level", reason: "not a kernel address below 0xffffffff00000000")
    }
    let busy: Set<Int> = [0x1ED, Self.pml4Index(kernelBase), Self.pml4Index(Self.kuserSharedDataAddress)]
    var selfRef = configuration.selfReferenceIndex ?? 0
    if configuration.selfReferenceIndex == nil {
      repeat { selfRef = 0x100 + Int(random.next() % 0x100) } while busy.contains(selfRef)
    }
    var poolIndex = 0
    repeat { poolIndex = 0x140 + Int(random.next() % 0xA0) } while busy.contains(poolIndex) || poolIndex == selfRef
    let poolBase = 0xFFFF_0000_0000_0000 | UInt64(poolIndex) << 39 | (random.next() % 0x100) << 30

    let tables = try PageTableBuilder(memory: memory, format: .x64FourLevel, root: dtb, selfMap: .index(selfRef))
    self.kernelTables = tables

    // The kernel: first `largePageBytes` with 2 MiB pages on 2 MiB-aligned physical memory, the rest
    // with 4 KiB pages on scattered physical pages.
    let (kernelPE, exportCode) = try KernelImageTemplate.kernel(
      base: kernelBase, configuration: configuration, random: &random)
    self.exportCode = exportCode
    let kernel = try kernelPE.build()
    self.kernelImage = kernel
    let imageSize = UInt64(kernel.sizeOfImage)
    if let facts = configuration.kernelBuild, facts.sizeOfImage != imageSize {
      throw ImageBuilderError.invalid(
        "kernel laid out to SizeOfImage \(hexText(imageSize)), not the build's \(hexText(facts.sizeOfImage))")
    }
    let largeBytes = min(configuration.largePageBytes, imageSize / 0x20_0000 * 0x20_0000)
    if largeBytes > 0 {
      let physical = try memory.allocate(length: largeBytes, alignment: 0x20_0000)
      try tables.map(va: kernelBase, pa: physical, length: largeBytes, size: .size2M, flags: [.writable, .global])
    }
    self.random = random
    self.nextModuleBase = (kernelBase + imageSize + 0x10_0000 + 0xF_FFFF) & ~0xF_FFFF
    self.poolNext = poolBase
    self.poolMappedEnd = poolBase
    self.truth = WindowsImageTruth(
      seed: configuration.seed, memorySize: configuration.memorySize, pagingMode: PageTableFormat.x64FourLevel.rawValue,
      dtb: dtb, selfReferenceIndex: selfRef, pageTableBase: tables.pageTableBase ?? 0, kernelBase: kernelBase,
      kernelPhysicalBase: 0, kernelSize: imageSize, largePageBytes: largeBytes,
      pdb: .init(name: configuration.pdbName, guid: configuration.pdbGUID.uppercased(), age: configuration.pdbAge),
      version: configuration.versionString, majorVersion: UInt32(configuration.version.first ?? 0),
      minorVersion: UInt32(configuration.version.count > 1 ? configuration.version[1] : 0),
      buildNumber: UInt32(configuration.version.count > 2 ? configuration.version[2] : 0),
      kuserSharedData: Self.kuserSharedDataAddress, lowStub: configuration.lowStubAddress,
      lowStubLmTarget: kernelBase + UInt64(kernel.entryPointRVA),
      sections: kernel.sections.map {
        .init(name: $0.name, address: kernelBase + UInt64($0.virtualAddress), size: UInt64($0.virtualSize))
      },
      exports: kernel.exportRVAs.mapValues { kernelBase + UInt64($0) }, modules: [], processes: [], decoys: [])
    truth.modules.append(.init(name: "ntoskrnl.exe", base: kernelBase, size: imageSize, pdb: truth.pdb))

    if let facts = configuration.kernelBuild {
      // A kernel of a real build's size, mapped sparsely (see mapKernelSparsely).
      try mapKernelSparsely(kernel, at: kernelBase, from: largeBytes, symbols: facts.symbols)
    } else {
      if imageSize > largeBytes {
        try mapFreshPages(
          in: tables, va: kernelBase + largeBytes, length: imageSize - largeBytes, flags: [.writable, .global])
      }
      try tables.write(kernel.memoryLayout, at: kernelBase)
    }
    truth.kernelPhysicalBase = try tables.translate(kernelBase)
    // The first pool page now, so the pool's PML4 entry exists before any process copies the kernel half.
    _ = try allocateKernelMemory(0x10)

    try plantKUserSharedData()
    try plantLowStub()
    if configuration.decoys { try plantDecoys() }
  }

  /// Maps the 4 KiB-page part of a large kernel only where it holds bytes or a symbol (the first
  /// 0x200 bytes after each symbol: the longest head array the readers take), and writes those pages.
  /// The rest of SizeOfImage stays unmapped, as discarded or paged-out kernel pages are on a real machine.
  private func mapKernelSparsely(_ kernel: PEImage, at base: UInt64, from largeBytes: UInt64, symbols: [String: UInt64])
    throws
  {
    let layout = kernel.memoryLayout
    let size = UInt64(layout.count)
    var pages = Set<UInt64>()
    var page = largeBytes
    while page < size {
      let end = Int(min(page + 0x1000, size))
      if !isAllZero(layout[Int(page)..<end]) { pages.insert(page) }
      page += 0x1000
    }
    for rva in symbols.values where rva < size {
      var at = rva & ~0xFFF
      while at < min(rva + 0x200, size) {
        if at >= largeBytes { pages.insert(at) }
        at += 0x1000
      }
    }
    var frames: [UInt64] = []
    for _ in pages { frames.append(try memory.allocatePage()) }
    frames.shuffle(using: &random)
    for (offset, frame) in zip(pages.sorted(), frames) {
      try kernelTables.map(va: base + offset, pa: frame, size: .size4K, flags: [.writable, .global])
    }
    try kernelTables.write(Array(layout[0..<Int(min(largeBytes, size))]), at: base)
    for offset in pages.sorted() {
      let end = Int(min(offset + 0x1000, size))
      try kernelTables.write(Array(layout[Int(offset)..<end]), at: base + offset)
    }
  }

  /// Maps `length` bytes at `va` (4 KiB pages) to freshly allocated, shuffled physical pages.
  public func mapFreshPages(in tables: PageTableBuilder, va: UInt64, length: UInt64, flags: PageFlags) throws {
    let count = Int((length + 0xFFF) / 0x1000)
    var frames: [UInt64] = []
    for _ in 0..<count { frames.append(try memory.allocatePage()) }
    frames.shuffle(using: &random)
    for (index, frame) in frames.enumerated() {
      try tables.map(va: va + UInt64(index) * 0x1000, pa: frame, size: .size4K, flags: flags)
    }
  }

  /// KUSER_SHARED_DATA: version numbers at the offsets of the configured layout table (the build
  /// number only where the layout has NtBuildNumber).
  private func plantKUserSharedData() throws {
    try mapFreshPages(
      in: kernelTables, va: Self.kuserSharedDataAddress, length: 0x1000, flags: [.writable, .noExecute])
    var kuser = try configuration.layouts.instance("_KUSER_SHARED_DATA")
    try kuser.set("NtMajorVersion", UInt64(truth.majorVersion))
    try kuser.set("NtMinorVersion", UInt64(truth.minorVersion))
    // Windows 7 and 8.1 have no NtBuildNumber member (public PDBs: +0x260 is padding on 7, Reserved2 on 8.1).
    try kuser.setIfPresent("NtBuildNumber", UInt64(truth.buildNumber))
    try kuser.set("NtProductType", 1)  // NtProductWinNt
    try kuser.set("ProductTypeIsValid", 1)
    try kuser.set("NumberOfPhysicalPages", configuration.memorySize / 0x1000)
    try write(kuser, at: Self.kuserSharedDataAddress)
  }

  /// The x64 low stub, PROCESSOR_START_BLOCK (WRK v1.2 base/ntos/inc/amd64.h; offsets as used by
  /// Volatility 3's `constants/windows` and MemProcFS's DTB scan): +0x00 the `jmp` and
  /// CompletionFlag signature 0x00000001000600E9, +0x70 LmTarget, +0xA0 ProcessorState.SpecialRegisters.Cr3.
  private func plantLowStub() throws {
    let at = configuration.lowStubAddress
    guard at < 0x10_0000, at % 0x1000 == 0 else {
      throw ImageBuilderError.invalid("low stub must be a page in the first MiB")
    }
    try memory.writeLE(UInt64(0x0000_0001_0006_00E9), at: at)
    try memory.writeLE(truth.lowStubLmTarget, at: at + 0x70)
    try memory.writeLE(truth.dtb, at: at + 0xA0)
  }

  private func plantDecoys() throws {
    let module = try addModule(
      name: "decoy.sys", pe: try KernelImageTemplate.driver(name: "decoy.sys", base: 0, random: &random))
    truth.decoys.append(
      .init(kind: "driver-pe", physicalAddress: try kernelTables.translate(module.base), virtualAddress: module.base))
    let copy = try KernelImageTemplate.driver(name: "stale.sys", base: 0x1_4000_0000, random: &random).build()
    let copyAddress = try memory.allocate(length: UInt64(copy.memoryLayout.count))
    try memory.write(copy.memoryLayout, at: copyAddress)
    truth.decoys.append(.init(kind: "unmapped-pe", physicalAddress: copyAddress, virtualAddress: nil))
    let noise = try memory.allocatePage()
    try memory.write(random.bytes(0x1000), at: noise)
    truth.decoys.append(.init(kind: "random-page", physicalAddress: noise, virtualAddress: nil))
  }

  /// Writes the raw image (sparse).
  public func writeRaw(to path: String) throws { try memory.writeRaw(to: path) }
}
