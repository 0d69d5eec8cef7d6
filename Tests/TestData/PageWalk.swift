// A page walk of the tests' own over a raw physical image (Intel SDM vol. 3A §4.5, 4-level paging),
// so tests find the physical address of a virtual one without the code under test.

import Foundation

#if canImport(Glibc)
  import Glibc
#endif

extension TestData {
  /// A little-endian 64-bit value of the open file `fd` at `offset`.
  public static func read64(_ fd: Int32, _ offset: UInt64) throws -> UInt64 {
    var value: UInt64 = 0
    guard pread(fd, &value, 8, off_t(offset)) == 8 else { throw TestDataError.tool("pread at \(offset)") }
    return UInt64(littleEndian: value)
  }

  /// Physical address of `va` under the 4-level tables at `dtb` in the raw image `path`.
  public static func physical(_ va: UInt64, dtb: UInt64, image path: String) throws -> UInt64 {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { throw TestDataError.tool("open \(path)") }
    defer { close(fd) }
    let frame: UInt64 = 0x000f_ffff_ffff_f000
    var table = dtb & frame
    for (level, shift) in [(4, UInt64(39)), (3, 30), (2, 21), (1, 12)] {
      let entry = try read64(fd, table + ((va >> shift) & 0x1ff) * 8)
      guard entry & 1 != 0 else { throw TestDataError.tool("\(String(va, radix: 16)) not present at level \(level)") }
      if level == 1 || (level < 4 && entry & 0x80 != 0) {
        let pageMask = (UInt64(1) << shift) - 1
        return (entry & frame & ~pageMask) | (va & pageMask)
      }
      table = entry & frame
    }
    throw TestDataError.tool("unreachable")
  }

  /// Writes `value` little-endian into the file `path` at `offset`.
  public static func write64(_ value: UInt64, at offset: UInt64, in path: String) throws {
    let fd = open(path, O_RDWR)
    guard fd >= 0 else { throw TestDataError.tool("open \(path)") }
    defer { close(fd) }
    let written = withUnsafeBytes(of: value.littleEndian) { pwrite(fd, $0.baseAddress, 8, off_t(offset)) }
    guard written == 8 else { throw TestDataError.tool("pwrite at \(offset) in \(path)") }
  }
}
