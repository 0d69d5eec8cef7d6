// GuestRAM's per-tick check: pages past the copy bound (`maxKeptPages`) are still checked, by
// digest, at the end of the tick and when read twice within it.

import Foundation
import Live
import TestData
import Testing

#if canImport(Glibc)
  import Glibc
#endif

@Suite("guest RAM tick check")
struct GuestRAMTickTests {
  @Test func pagesPastTheCopyBoundAreChecked() throws {
    let dir = try TestData.temporaryDirectory("live")
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("ram").path
    let pages = (0..<4).map { [UInt8](repeating: UInt8($0 + 1), count: 4096) }
    #expect(FileManager.default.createFile(atPath: path, contents: Data(pages.joined())))
    let fd = open(path, O_RDWR)
    defer { close(fd) }
    func write(page: Int, byte: UInt8) {
      _ = [UInt8](repeating: byte, count: 4096).withUnsafeBytes { pwrite(fd, $0.baseAddress, 4096, off_t(page * 4096)) }
    }
    let ram = try GuestRAM(path: path, layout: .flat(size: 4 * 4096), maxKeptPages: 1)

    // Nothing changes: nothing reported, every page read counted.
    ram.beginTick()
    for page in 0..<3 {
      #expect(try ram.read(at: UInt64(page * 4096), count: 8) == [UInt8](repeating: UInt8(page + 1), count: 8))
    }
    #expect(ram.keptPages == 1)
    #expect(try ram.endTick() == 0)
    #expect(ram.lastTickPages == 3)

    // Page 1 (a digest only) changes after its read, page 2 changes between two reads and back:
    // both are changed, as page 0 (a copy) would be.
    ram.beginTick()
    for page in 0..<3 { _ = try ram.read(at: UInt64(page * 4096), count: 8) }
    write(page: 1, byte: 0x11)
    write(page: 2, byte: 0x22)
    #expect(try ram.read(at: 2 * 4096, count: 1) == [0x22])  // past the bound: read from the file again
    write(page: 2, byte: 3)
    #expect(try ram.endTick() == 2)

    // A copy still gives one view per tick.
    ram.beginTick()
    _ = try ram.read(at: 0, count: 1)
    write(page: 0, byte: 0x10)
    #expect(try ram.read(at: 0, count: 1) == [1])
    #expect(try ram.endTick() == 1)
  }
}
