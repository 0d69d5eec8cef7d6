// A kernel module that a real linker produced (clang + lld-link: fltmgr.sys with its PDB), mapped at
// its preferred base as the loader maps it and appended to PsLoadedModuleList, so the reader meets
// compiler-written code and a PDB it did not write.

extension WindowsImageBuilder {
  /// One section as the loader maps it: its RVA and raw bytes (the rest of its virtual size is zero).
  public struct MappedSection: Sendable {
    public var rva: UInt64
    public var bytes: [UInt8]
    public init(rva: UInt64, bytes: [UInt8]) {
      self.rva = rva
      self.bytes = bytes
    }
  }

  /// Maps the linked module `name` at `base` (its preferred base: no relocation is applied), writes
  /// its headers and sections, adds its loader entry at the end of PsLoadedModuleList and records it
  /// in the truth; returns the loader entry's InLoadOrderLinks address.
  @discardableResult
  public func addLinkedModule(
    name: String, path: String, base: UInt64, sizeOfImage: UInt64, headers: [UInt8], sections: [MappedSection],
    entryPointRVA: UInt64 = 0
  ) throws -> UInt64 {
    let size = alignUp(sizeOfImage, 0x1000)
    guard size > 0, base & 0xFFF == 0, !base.addingReportingOverflow(size).overflow else {
      throw ImageBuilderError.badVirtualAddress(base, mode: "x64-4level", reason: "linked module \(name) does not fit")
    }
    for section in sections where section.rva + UInt64(section.bytes.count) > size {
      throw ImageBuilderError.invalid("\(name): section at RVA \(hexText(section.rva)) ends past SizeOfImage")
    }
    try mapFreshPages(in: kernelTables, va: base, length: size, flags: [.writable])
    try write(headers, at: base)
    for section in sections { try write(section.bytes, at: base + section.rva) }
    return try appendLoaderEntry(name: name, path: path, base: base, size: size, entryPoint: base + entryPointRVA)
  }

  /// A loader entry for a module mapped at `base` (in the kernel's tables or, for session space,
  /// only in some processes' tables), spliced in at the end of PsLoadedModuleList and recorded in
  /// the truth; its InLoadOrderLinks address.
  @discardableResult
  public func appendLoaderEntry(name: String, path: String, base: UInt64, size: UInt64, entryPoint: UInt64) throws
    -> UInt64
  {
    let entry = try DemoScenario.loaderEntry(
      self, name: name, path: path, base: base, size: size, entryPoint: entryPoint)
    // Splice it in before the head: the head's Blink is the current last entry.
    let head = try symbolAddress("PsLoadedModuleList")
    let last = try readPointer(head + 8)
    try writeLE(head, at: entry)
    try writeLE(last, at: entry + 8)
    try writeLE(entry, at: last)
    try writeLE(entry, at: head + 8)
    truth.modules.append(WindowsImageTruth.Module(name: name, base: base, size: size, pdb: nil))
    return entry
  }

  /// Reads a pointer (x64) from kernel memory already written.
  public func readPointer(_ va: UInt64) throws -> UInt64 {
    let bytes = try kernelTables.read(at: va, count: 8)
    return bytes.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
  }
}
