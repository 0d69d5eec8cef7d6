// Extension points for later scenarios: kernel virtual memory (a pool-like region mapped with 4 KiB
// pages), structs written by field name from the layout table, more kernel modules, and user-mode
// address spaces that share the kernel half as Windows does.

extension WindowsImageBuilder {
  /// Writes `bytes` at kernel virtual address `va`.
  public func write(_ bytes: [UInt8], at va: UInt64) throws { try kernelTables.write(bytes, at: va) }

  /// Writes a little-endian integer at kernel virtual address `va`.
  public func writeLE<T: FixedWidthInteger>(_ value: T, at va: UInt64) throws {
    var raw: [UInt8] = []
    withUnsafeBytes(of: value.littleEndian) { raw.append(contentsOf: $0) }
    try write(raw, at: va)
  }

  /// Writes a struct instance at kernel virtual address `va`.
  public func write(_ instance: StructInstance, at va: UInt64) throws { try write(instance.bytes.bytes, at: va) }

  /// A zeroed instance of a struct from the configured layout table.
  public func instance(_ structName: String) throws -> StructInstance {
    try configuration.layouts.instance(structName)
  }

  /// `size` bytes of fresh kernel memory in the pool region (16-byte aligned, mapped RW/NX with 4 KiB pages).
  public func allocateKernelMemory(_ size: Int, alignment: UInt64 = 16) throws -> UInt64 {
    guard size > 0, alignment > 0, alignment & (alignment - 1) == 0 else {
      throw ImageBuilderError.invalid("pool allocation of \(size) bytes aligned \(alignment)")
    }
    let start = alignUp(poolNext, alignment)
    let end = start + UInt64(size)
    if end > poolMappedEnd {
      let newEnd = alignUp(end, 0x1000)
      try mapFreshPages(
        in: kernelTables, va: poolMappedEnd, length: newEnd - poolMappedEnd, flags: [.writable, .noExecute])
      poolMappedEnd = newEnd
    }
    poolNext = end
    return start
  }

  /// Allocates kernel memory for `instance`, writes it there and returns its address.
  public func allocate(_ instance: StructInstance) throws -> UInt64 {
    let va = try allocateKernelMemory(max(instance.bytes.count, 1))
    try write(instance, at: va)
    return va
  }

  /// Maps a PE module in kernel space at `base` (or the next free module address), recording it in the truth.
  @discardableResult
  public func addModule(name: String, pe: PEBuilder, base: UInt64? = nil) throws -> WindowsImageTruth.Module {
    var description = pe
    let at = base ?? nextModuleBase
    description.imageBase = at
    let image = try description.build()
    let size = UInt64(image.sizeOfImage)
    guard !at.addingReportingOverflow(size + 0x2_0000).overflow else {
      throw ImageBuilderError.badVirtualAddress(
        at, mode: "x64-4level", reason: "module of \(hexText(size)) bytes wraps")
    }
    try mapFreshPages(in: kernelTables, va: at, length: size, flags: [.writable])
    try kernelTables.write(image.memoryLayout, at: at)
    if base == nil { nextModuleBase = alignUp(at + size + 0x1_0000, 0x1_0000) }
    let pdb = image.codeView.map { WindowsImageTruth.PDB(name: $0.pdbName, guid: $0.storeGUID, age: $0.age) }
    let module = WindowsImageTruth.Module(name: name, base: at, size: size, pdb: pdb)
    truth.modules.append(module)
    return module
  }

  /// A new user-mode address space: its own PML4 (with the same self-map slot) sharing the kernel
  /// half (PML4 entries 256–511) as it stands now; map user pages with `mapFreshPages(in:…)`.
  public func addProcess(name: String) throws -> PageTableBuilder {
    let tables = try PageTableBuilder(
      memory: memory, format: .x64FourLevel, selfMap: .index(truth.selfReferenceIndex))
    try tables.shareTopLevelEntries(256..<512, from: kernelTables)
    truth.processes.append(.init(name: name, dtb: tables.root))
    return tables
  }
}
