// Which layout `watch` reads a RAM file with: QMP before --ram-layout before the default, and the
// default checked against QEMU itself (the machine `-machine help` marks as default, and the split
// `info mtree` states for it); a file smaller than the split reads byte for byte as the file.

import Foundation
import Live
import TestData
import Testing

#if canImport(Glibc)
  import Glibc
#endif

@Suite("RAM layout choice", .serialized)
struct RAMLayoutChoiceTests {
  static let fourGiB: UInt64 = 4 << 30

  @Test func qmpThenRamLayoutThenDefault() throws {
    let q35 = GuestRAMLayout.split(size: Self.fourGiB, below4G: 2 << 30)
    let fromQMP = (layout: q35, source: "QMP info mtree (backend ram)")
    let both = try RAMLayoutChoice(fileSize: Self.fourGiB, fromQMP: fromQMP, requested: "flat")
    #expect(both.layout == q35)
    #expect(both.source == fromQMP.source)
    #expect(both.notes.count == 1 && both.notes[0].contains("--ram-layout flat ignored"), "\(both.notes)")
    // The same text as QEMU's layout is no news.
    #expect(try RAMLayoutChoice(fileSize: Self.fourGiB, fromQMP: fromQMP, requested: "q35").notes.isEmpty)
    let requested = try RAMLayoutChoice(fileSize: Self.fourGiB, fromQMP: nil, requested: "flat")
    #expect(requested.layout == .flat(size: Self.fourGiB))
    #expect(requested.source == "--ram-layout flat")
    let fallback = try RAMLayoutChoice(fileSize: Self.fourGiB, fromQMP: nil, requested: nil)
    // i440FX: 3 GiB below the PCI hole, the last GiB from 4 GiB (QEMU hw/i386/pc_piix.c).
    #expect(
      fallback.layout.segments == [
        .init(guest: 0, fileOffset: 0, length: 3 << 30),
        .init(guest: 4 << 30, fileOffset: 3 << 30, length: 1 << 30),
      ])
    #expect(fallback.source.hasPrefix("pc default"))
    #expect(fallback.notes.count == 1)
    #expect(throws: LiveError.self) { try RAMLayoutChoice(fileSize: 1 << 30, fromQMP: nil, requested: "nonsense") }
  }

  /// The default is that of the machine QEMU itself marks `(default)` in `-machine help`, with the
  /// split QEMU states for it through QMP.
  @Test func defaultIsQEMUsDefaultMachine() throws {
    let help = try TestData.run(try TestData.which("qemu-system-x86_64"), ["-machine", "help"])
    #expect(help.status == 0, "\(help.stderr)")
    let line = try #require(help.stdout.split(separator: "\n").first { $0.hasSuffix("(default)") }, "\(help.stdout)")
    let machine = String(try #require(line.split(separator: " ").first))
    #expect(machine.hasPrefix("pc-i440fx"), "QEMU's default machine is \(machine)")
    let dir = try TestData.temporaryDirectory("live")
    defer { try? FileManager.default.removeItem(at: dir) }
    let ram = dir.appendingPathComponent("ram").path
    #expect(FileManager.default.createFile(atPath: ram, contents: nil))
    #expect(truncate(ram, off_t(Self.fourGiB)) == 0)
    let guest = try QEMUGuest(ramPath: ram, ramSize: Self.fourGiB, machine: machine, directory: dir)
    defer { guest.kill() }
    let fromQEMU = try #require(try QMPClient(path: guest.qmpPath).ramLayout(backend: "ram"))
    #expect(try RAMLayoutChoice(fileSize: Self.fourGiB, fromQMP: nil, requested: nil).layout == fromQEMU)
  }

  /// Regression: a file smaller than the split (the 256 MiB reference image) reads under the
  /// default exactly as the file holds it, every byte, with no note.
  @Test func smallFileReadsAsTheFile() throws {
    let path = try TestData.decompressed("images/win10-19041-clean.raw.xz")
    let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? UInt64)
    let choice = try RAMLayoutChoice(fileSize: size, fromQMP: nil, requested: nil)
    #expect(choice.layout == .flat(size: size))
    #expect(choice.notes.isEmpty)
    let ram = try GuestRAM(path: path, layout: choice.layout)
    let file = try #require(FileHandle(forReadingAtPath: path))
    defer { try? file.close() }
    let chunk = 1 << 20
    var offset: UInt64 = 0
    while offset < size {
      let expected = [UInt8](try #require(try file.read(upToCount: chunk)))
      #expect(try ram.read(at: offset, count: expected.count) == expected, "at \(offset)")
      offset += UInt64(expected.count)
    }
    #expect(offset == size)
    // Just under the pc split threshold (3.5 GiB) a file still reads flat: its last page at its offset.
    let dir = try TestData.temporaryDirectory("live")
    defer { try? FileManager.default.removeItem(at: dir) }
    let big = dir.appendingPathComponent("ram").path
    let under: UInt64 = 0xe000_0000 - 0x1000
    #expect(FileManager.default.createFile(atPath: big, contents: nil))
    #expect(truncate(big, off_t(under)) == 0)
    let fd = open(big, O_RDWR)
    defer { close(fd) }
    _ = [UInt8]([7, 7, 7, 7]).withUnsafeBytes { pwrite(fd, $0.baseAddress, 4, off_t(under - 4)) }
    let underChoice = try RAMLayoutChoice(fileSize: under, fromQMP: nil, requested: nil)
    #expect(underChoice.layout == .flat(size: under))
    #expect(try GuestRAM(path: big, layout: underChoice.layout).read(at: under - 4, count: 4) == [7, 7, 7, 7])
  }

  /// `watch` with neither --qmp nor --ram-layout on a 4 GiB file says it reads it with the pc split
  /// (the reference system lies in the first 256 MiB, below the split, so it is found either way).
  @Test func watchSaysWhichDefaultItUses() throws {
    let dir = try TestData.temporaryDirectory("live")
    defer { try? FileManager.default.removeItem(at: dir) }
    let file = try LiveCLI.copy("win10-19041-clean", to: dir)
    #expect(truncate(file, off_t(Self.fourGiB)) == 0)
    let run = try TestData.run(try LiveCLI.binary(), ["watch", file, "--count", "1", "--format", "jsonl", "--offline"])
    #expect(run.status == 0, "\(run.stderr)")
    #expect(run.stderr.contains("RAM layout: pc default"), "\(run.stderr)")
    #expect(run.stdout.contains("\"event\":\"tick\""))
  }
}
