// Opens a memory image of any supported format, recognised from its content (never its name):
// crash dump ('PAGE' + 'DU64'/'DUMP'), ELF core, LiME, else raw. A raw file named *.vmem with a
// VMware state file (.vmss/.vmsn) beside it uses that file's memory region table.

import BinaryReading

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

  /// Opens the image at `path`, choosing the reader from the file's first bytes.
  public static func open(path: String) throws(MemoryImageError) -> any PhysicalMemory {
    let file: MappedFile
    do { file = try MappedFile(path: path) } catch { throw .io(error) }
    let r = ImageFileReader(file)
    guard file.size > 0 else {
      throw .unknownFormat(path: path, detail: "empty file (0 bytes at offset 0x0), expected a memory image")
    }
    let head = try r.bytes(0, Int(min(file.size, 16)), "file signature")
    if head.starts(with: Array("PAGE".utf8)) { return try CrashDumpImage.open(file) }
    if head.starts(with: [0x7F, 0x45, 0x4C, 0x46]) { return try ELFCoreImage.open(file) }
    if head.starts(with: [0x45, 0x4D, 0x69, 0x4C]) { return try LiMEImage.open(file) }
    for s in unsupportedSignatures where head.starts(with: s.bytes) {
      throw .unsupported(path: path, message: "\(s.name) (signature at offset 0x0)")
    }
    if let vmem = try openVMem(file) { return vmem }
    return RawImage(file: file)
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
