// Shared by the image-format targets: opens the scratch file as a memory image and reads the first
// and last bytes of every range it claims, so a segment map that lies about the file is caught.

import MemoryImage

/// Writes `bytes` (with `magic` over its first bytes, keeping the fuzzer inside one format) and
/// opens it through MemoryImageOpener.
func probeImage(_ bytes: [UInt8], magic: [UInt8]) {
  var input = bytes
  for (i, b) in magic.enumerated() where i < input.count { input[i] = b }
  guard let image = try? MemoryImageOpener.open(path: ScratchFile.write(input)) else { return }
  for range in image.ranges.prefix(256) {
    _ = try? image.read(at: range.start, count: Int(min(range.length, 16)))
    if range.length >= 8 { _ = try? image.readUInt64(at: range.start &+ range.length &- 8) }
    _ = try? image.read(at: range.end, count: 1)
  }
  _ = image.statedPagingMode
  _ = image.statedDirectoryTableBase
  _ = image.fileRuns
}
