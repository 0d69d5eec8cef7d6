// Opens a memory image of any supported format, recognised from its content (never its name):
// crash dump ('PAGE' + 'DU64'/'DUMP'), ELF core, LiME, else raw. A raw file named *.vmem with a
// VMware state file (.vmss/.vmsn) beside it uses that file's memory region table. An xz or gzip
// file is decompressed to a temporary file first (removed once mapped); zstd, bzip2, 7z and zip
// files stop with the command that decompresses them.

import BinaryReading

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Recognises and opens memory images.
public enum MemoryImageOpener {
  /// Signatures of formats recognised but not read (a clear error beats reading them as raw).
  static let unsupportedSignatures: [(bytes: [UInt8], name: String)] = [
    (Array("KDUMP   ".utf8), "makedumpfile/kdump compressed dump"),
    (Array("makedumpfile".utf8), "makedumpfile flattened dump"),
    (Array("MDMP".utf8), "user-mode minidump"),
    (Array("QEVM".utf8), "QEMU savevm state"),
    (Array("HIBR".utf8), "Windows hibernation file"),
    (Array("hibr".utf8), "Windows hibernation file"),
  ]

  /// Opens the image at `path`, choosing the reader from the file's first bytes. `progress`
  /// (compressed bytes read, compressed size) is called while an xz or gzip file is decompressed.
  public static func open(path: String, progress: (@Sendable (UInt64, UInt64) -> Void)? = nil)
    throws(MemoryImageError) -> any PhysicalMemory
  {
    try open(path: path, progress: progress, compressedAllowed: true)
  }

  static func open(path: String, progress: (@Sendable (UInt64, UInt64) -> Void)?, compressedAllowed: Bool)
    throws(MemoryImageError) -> any PhysicalMemory
  {
    let file: MappedFile
    do { file = try MappedFile(path: path) } catch { throw .io(error) }
    let r = ImageFileReader(file)
    guard file.size > 0 else {
      throw .unknownFormat(path: path, detail: "empty file (0 bytes at offset 0x0), expected a memory image")
    }
    let head = try r.bytes(0, Int(min(file.size, 16)), "file signature")
    if let compression = CompressionFormat.detect(head) {
      guard compression.isStreamed, compressedAllowed else {
        throw .compressed(path: path, format: compression.rawValue, command: compression.command(for: path))
      }
      return try openDecompressed(file, compression, progress: progress)
    }
    if head.starts(with: Array("PAGE".utf8)) { return try CrashDumpImage.open(file) }
    if head.starts(with: [0x7F, 0x45, 0x4C, 0x46]) { return try ELFCoreImage.open(file) }
    if head.starts(with: [0x45, 0x4D, 0x69, 0x4C]) { return try LiMEImage.open(file) }
    for s in unsupportedSignatures where head.starts(with: s.bytes) {
      throw .unsupported(path: path, message: "\(s.name) (signature at offset 0x0)")
    }
    if let vmem = try openVMem(file) { return vmem }
    return RawImage(file: file)
  }

  /// Decompresses `file` to a temporary file, opens that (the temporary name is removed at once:
  /// the mapping keeps the data until the image is released) and presents it under `file`'s path.
  static func openDecompressed(
    _ file: MappedFile, _ compression: CompressionFormat, progress: (@Sendable (UInt64, UInt64) -> Void)?
  ) throws(MemoryImageError) -> any PhysicalMemory {
    let temporary = try StreamDecompressor.decompress(file, format: compression, progress: progress)
    defer { unlink(temporary) }
    let inner: any PhysicalMemory
    do {
      inner = try open(path: temporary, progress: nil, compressedAllowed: false)
    } catch {
      throw renamed(error, from: temporary, to: "\(file.path) (decompressed)")
    }
    return DecompressedImage(inner: inner, path: file.path, compression: compression, fileSize: file.size)
  }

  /// `error` with the temporary file's path replaced by the name the user knows.
  static func renamed(_ error: MemoryImageError, from temporary: String, to name: String) -> MemoryImageError {
    func fix(_ text: String) -> String { text.replacing(temporary, with: name) }
    switch error {
    case .io(let e): return .io(.io(path: name, message: fix(e.description)))
    case .unknownFormat(let p, let d): return .unknownFormat(path: fix(p), detail: fix(d))
    case .corrupt(let p, let o, let m): return .corrupt(path: fix(p), offset: o, message: fix(m))
    case .unsupported(let p, let m): return .unsupported(path: fix(p), message: fix(m))
    case .notBacked(let p, let a, let c): return .notBacked(path: fix(p), address: a, count: c)
    case .compressed(let p, let f, let c): return .compressed(path: fix(p), format: f, command: fix(c))
    }
  }

  /// A .vmem with a companion state file holding a region table, or nil.
  static func openVMem(_ file: MappedFile) throws(MemoryImageError) -> SegmentedImage? {
    let path = file.path
    guard path.lowercased().hasSuffix(".vmem") else { return nil }
    let stem = String(path.dropLast(5))
    for ext in [".vmss", ".vmsn"] {
      guard let state = try? MappedFile(path: stem + ext) else { continue }
      let r = ImageFileReader(state)
      guard VMwareState.looksLikeState(r) else { continue }
      let regions = try VMwareState.regions(r)
      guard !regions.isEmpty else { return nil }
      let fileReader = ImageFileReader(file)
      var segments: [Segment] = []
      for (i, region) in regions.enumerated() {
        let start = try r.multiply(region.ppn, VMwareState.pageSize, at: 0, "VMware regionPPN[\(i)]")
        let offset = try r.multiply(region.page, VMwareState.pageSize, at: 0, "VMware regionPageNum[\(i)]")
        let length = try r.multiply(region.count, VMwareState.pageSize, at: 0, "VMware regionSize[\(i)]")
        segments.append(Segment(start: start, length: length, fileOffset: offset, describedAt: 0))
      }
      let map = try SegmentMap(
        validating: segments, reader: fileReader, what: "VMware memory region (from \(stem + ext))")
      return SegmentedImage(file: file, formatName: "vmem", map: map)
    }
    return nil
  }
}
