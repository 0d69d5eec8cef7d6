// Writers for the kernel's common building blocks, by field name from the layout table: symbol
// addresses of the mirrored build, UNICODE_STRINGs and C strings in pool, circular LIST_ENTRY lists,
// and executable pool pages. LIST_ENTRY / UNICODE_STRING field names as in the public PDB (ntdef.h).

extension WindowsImageBuilder {
  /// The kernel virtual address of `symbol` in the mirrored build (`configuration.kernelBuild`).
  public func symbolAddress(_ symbol: String) throws -> UInt64 {
    guard let facts = configuration.kernelBuild else {
      throw ImageBuilderError.invalid("no kernel build facts: symbol \(symbol) has no address")
    }
    return truth.kernelBase + (try facts.rva(symbol))
  }

  /// Whether the mirrored build has `symbol`.
  public func hasSymbol(_ symbol: String) -> Bool { configuration.kernelBuild?.symbols[symbol] != nil }

  /// A `_UNICODE_STRING` for `text`, its NUL-terminated UTF-16 buffer allocated in pool.
  public func unicodeString(_ text: String) throws -> StructInstance {
    var buffer = ByteBuffer()
    buffer.appendUTF16(text, terminated: true)
    guard buffer.count <= 0xFFFF else { throw ImageBuilderError.invalid("string of \(buffer.count) bytes") }
    let va = try allocateKernelMemory(buffer.count)
    try write(buffer.bytes, at: va)
    var string = try instance("_UNICODE_STRING")
    try string.set("Length", UInt64(buffer.count - 2))
    try string.set("MaximumLength", UInt64(buffer.count))
    try string.set("Buffer", va)
    return string
  }

  /// A NUL-terminated ASCII string in pool; its address.
  public func cString(_ text: String) throws -> UInt64 {
    var buffer = ByteBuffer()
    buffer.appendASCII(text, terminated: true)
    let va = try allocateKernelMemory(buffer.count)
    try write(buffer.bytes, at: va)
    return va
  }

  /// Links the LIST_ENTRYs at `entries` into a circular list behind `head` (an empty list when
  /// `entries` is empty: Flink = Blink = head).
  public func linkList(head: UInt64, entries: [UInt64]) throws {
    let layout = try configuration.layouts.layout("_LIST_ENTRY")
    let flink = UInt64(try layout.field("Flink").offset)
    let blink = UInt64(try layout.field("Blink").offset)
    let all = [head] + entries
    for (i, link) in all.enumerated() {
      try writeLE(all[(i + 1) % all.count], at: link + flink)
      try writeLE(all[(i + all.count - 1) % all.count], at: link + blink)
    }
  }

  /// One fresh executable kernel page (RWX, as NonPagedPoolExecute) at the end of the pool region.
  public func allocateExecutableKernelPage() throws -> UInt64 {
    let va = poolMappedEnd
    try mapFreshPages(in: kernelTables, va: va, length: 0x1000, flags: [.writable])
    poolMappedEnd = va + 0x1000
    poolNext = poolMappedEnd
    return va
  }
}

extension StructInstance {
  /// Sets `field` when the layout has it (optional members that differ between builds).
  mutating func setIfPresent(_ field: String, _ value: UInt64) throws {
    guard layout.fields[field] != nil else { return }
    try set(field, value)
  }
}

extension WindowsImageBuilder {
  /// The bundled demo image: a kernel laid out like `build` (a real build's SizeOfImage and symbol
  /// RVAs), structures written with `layouts` (that build's PDB types; the undocumented callback
  /// records default to `LayoutTable.callbackRecordsX64`), and `DemoScenario` planted.
  public static func demo(seed: UInt64 = 1, build: KernelBuildFacts, layouts: LayoutTable) throws
    -> WindowsImageBuilder
  {
    try demo(WindowsImageConfiguration(seed: seed), build: build, layouts: layouts)
  }

  /// The demo image on `base`'s seed, memory size and kernel identity (PDB GUID/age and version of the
  /// mirrored build, for builds other than the default 19041); `build`, `layouts` and `decoys` are set here.
  public static func demo(_ base: WindowsImageConfiguration, build: KernelBuildFacts, layouts: LayoutTable) throws
    -> WindowsImageBuilder
  {
    var configuration = base
    configuration.kernelBuild = build
    configuration.layouts = LayoutTable.windows10x64.merging(.callbackRecordsX64).merging(layouts)
    configuration.decoys = false
    let builder = try WindowsImageBuilder(configuration)
    try DemoScenario.plant(in: builder)
    return builder
  }
}
