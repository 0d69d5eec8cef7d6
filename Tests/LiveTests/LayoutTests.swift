// The guest RAM layout and the QMP client against a real QEMU: the split of the PC machine types
// as QEMU itself states it (`info mtree`), reads through a split layout, durations.

import Foundation
import Live
import TestData
import Testing

@Suite("Live layout and QMP", .serialized)
struct LayoutTests {
  /// For each machine and RAM size, QEMU's own `ram-below-4g`/`ram-above-4g` aliases are the
  /// machine default `--ram-layout pc|q35` computes.
  @Test(arguments: [
    ("pc", UInt64(4) << 30), ("pc", 3584 << 20), ("pc", 3072 << 20), ("q35", 4 << 30), ("q35", 2816 << 20),
    ("q35", 2560 << 20),
  ])
  func machineDefaultIsQEMUs(machine: String, ramSize: UInt64) throws {
    let dir = try TestData.temporaryDirectory("live")
    defer { try? FileManager.default.removeItem(at: dir) }
    let ram = dir.appendingPathComponent("ram").path
    #expect(FileManager.default.createFile(atPath: ram, contents: nil))
    #expect(truncate(ram, off_t(ramSize)) == 0)
    let guest = try QEMUGuest(ramPath: ram, ramSize: ramSize, machine: machine, directory: dir)
    defer { guest.kill() }
    let qmp = try QMPClient(path: guest.qmpPath)
    let fromQEMU = try #require(try qmp.ramLayout(backend: "ram"))
    let kind = try #require(GuestRAMLayout.Machine(rawValue: machine))
    #expect(fromQEMU == GuestRAMLayout.machineDefault(kind, ramSize: ramSize))
    #expect(fromQEMU == (try GuestRAMLayout(parsing: machine, fileSize: ramSize)))
    #expect(try qmp.memoryBackends().map(\.size) == [ramSize])
  }

  @Test func qmpStopContAndErrors() throws {
    let dir = try TestData.temporaryDirectory("live")
    defer { try? FileManager.default.removeItem(at: dir) }
    let ram = dir.appendingPathComponent("ram").path
    #expect(FileManager.default.createFile(atPath: ram, contents: nil))
    #expect(truncate(ram, 64 << 20) == 0)
    let guest = try QEMUGuest(ramPath: ram, ramSize: 64 << 20, directory: dir)
    defer { guest.kill() }
    let qmp = try QMPClient(path: guest.qmpPath)
    #expect(qmp.version.hasPrefix("7.") || qmp.version.hasPrefix("8.") || qmp.version.hasPrefix("9."))
    #expect(try qmp.status().status == "prelaunch")
    #expect(throws: LiveError.self) { try qmp.execute("no-such-command") }
    guest.kill()
    #expect {
      try qmp.status()
    } throws: { error in
      guard case .qmpClosed? = error as? LiveError else { return false }
      return true
    }
    #expect(throws: LiveError.self) { try QMPClient(path: guest.qmpPath, timeout: 1) }
  }

  /// Bytes placed at the file offsets of the split are read at the guest addresses QEMU maps them to.
  @Test func readsThroughASplitLayout() throws {
    let dir = try TestData.temporaryDirectory("live")
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("ram").path
    let size: UInt64 = 4 << 30
    #expect(FileManager.default.createFile(atPath: path, contents: nil))
    #expect(truncate(path, off_t(size)) == 0)
    let fd = open(path, O_RDWR)
    defer { close(fd) }
    let marks: [(UInt64, [UInt8])] = [
      (0x1000, [1, 2, 3, 4]), (0xbfff_fffe, [5, 6, 7, 8]), (0xc000_0000, [9, 10, 11, 12]),
    ]
    for (offset, bytes) in marks { _ = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, 4, off_t(offset)) } }
    let ram = try GuestRAM(path: path, layout: .machineDefault(.pc, ramSize: size))
    #expect(try ram.read(at: 0x1000, count: 4) == [1, 2, 3, 4])
    #expect(try ram.read(at: 0x1_0000_0000, count: 4) == [9, 10, 11, 12])
    #expect(try ram.readUInt32(at: 0x1_0000_0000) == 0x0c0b_0a09)
    // The hole: guest 0xc0000000 up to 4 GiB holds no RAM; a read across the end of the low part fails.
    #expect(throws: (any Error).self) { try ram.read(at: 0xc000_0000, count: 4) }
    #expect(throws: (any Error).self) { try ram.read(at: 0xbfff_fffe, count: 4) }
    #expect(try ram.read(at: 0xbfff_fffe, count: 2) == [5, 6])
    ram.beginTick()
    #expect(try ram.read(at: 0x1_0000_0000, count: 2) == [9, 10])
    _ = [UInt8]([99]).withUnsafeBytes { pwrite(fd, $0.baseAddress, 1, off_t(0xc000_0000)) }
    #expect(try ram.read(at: 0x1_0000_0000, count: 1) == [9])  // one copy of a page per tick
    #expect(try ram.endTick() == 1)
    #expect(try ram.read(at: 0x1_0000_0000, count: 1) == [99])
    #expect(ftruncate(fd, 1 << 30) == 0)
    #expect {
      try ram.checkSource()
    } throws: { error in
      guard case .truncated(_, let now, let needed)? = error as? LiveError else { return false }
      return now == 1 << 30 && needed == size
    }
  }

  @Test func durations() throws {
    #expect(try LiveDuration(parsing: "200ms").nanoseconds == 200_000_000)
    #expect(try LiveDuration(parsing: "1s").nanoseconds == 1_000_000_000)
    #expect(try LiveDuration(parsing: "1.5s").nanoseconds == 1_500_000_000)
    #expect(try LiveDuration(parsing: "5m").nanoseconds == 300_000_000_000)
    for bad in ["", "1", "s", "-1s", "0s", "1x", "1e3s", "nans", "9999999h"] {
      #expect(throws: LiveError.badDuration(text: bad)) { try LiveDuration(parsing: bad) }
    }
    #expect(throws: LiveError.self) { try GuestRAMLayout(parsing: "split:lots", fileSize: 1 << 30) }
    #expect(try GuestRAMLayout(parsing: "split:2G", fileSize: 3 << 30) == .split(size: 3 << 30, below4G: 2 << 30))
  }
}
