// Guest physical memory through QEMU's gdbstub, for the one-time work of `trace` that needs a page
// walk of its own (the symbol-less profile's locators) when no `--ram` file is given:
// `Qqemu.PhyMemMode:1` makes the stub's `m` packets physical (QEMU docs/system/gdb.rst), and
// `finish()` turns it off again before the trace reads anything virtual. Whole 4 KiB pages are read
// and kept, since a page walk reads the same tables again and again.

import BinaryReading
import GDBRemote
import MemoryImage

/// Physical reads through a stopped QEMU stub.
final class TraceStubPhysicalMemory: PhysicalMemory, @unchecked Sendable {
  // @unchecked: used from the one thread that drives the trace, only between enabling and finish().
  let client: GDBClient
  var formatName: String { "gdbstub-physical" }
  var path: String { "GDB stub \(client.connection.endpoint)" }
  var fileSize: UInt64 { 0 }
  /// Everything a 52-bit physical address can name; an absent page is an error reply.
  let ranges = [PhysicalRange(start: 0, length: 1 << 52)]
  private var pages: [UInt64: [UInt8]] = [:]

  /// The most pages kept (16 MiB).
  static let maxPages = 4096

  /// Switches the stub to physical memory; throws when it is not QEMU's (or refuses).
  init(client: GDBClient) throws(TraceError) {
    self.client = client
    let reply: String
    do { reply = try client.connection.request("Qqemu.PhyMemMode:1") } catch {
      throw .kernel("the stub cannot read physical memory (Qqemu.PhyMemMode:1: \(error)); give --ram FILE")
    }
    guard reply == "OK" else {
      throw .kernel("the stub cannot read physical memory (Qqemu.PhyMemMode:1 answered `\(reply)`); give --ram FILE")
    }
  }

  /// Back to virtual `m` packets.
  func finish() throws(GDBRemoteError) {
    let reply = try client.connection.request("Qqemu.PhyMemMode:0")
    guard reply == "OK" else {
      throw .unexpectedReply(endpoint: client.connection.endpoint, command: "Qqemu.PhyMemMode:0", reply: reply)
    }
  }

  func read(at address: UInt64, count: Int) throws(MemoryImageError) -> [UInt8] {
    guard count >= 0, !address.addingReportingOverflow(UInt64(count)).overflow else {
      throw .notBacked(path: path, address: address, count: count)
    }
    var out: [UInt8] = []
    out.reserveCapacity(count)
    while out.count < count {
      let at = address &+ UInt64(out.count)  // address + count does not overflow (checked)
      let page = at & ~0xFFF
      let bytes = try self.page(page, for: address, count: count)
      let within = Int(at - page)
      let take = min(count - out.count, 0x1000 - within)
      out.append(contentsOf: bytes[within..<(within + take)])
    }
    return out
  }

  private func page(_ page: UInt64, for address: UInt64, count: Int) throws(MemoryImageError) -> [UInt8] {
    if let kept = pages[page] { return kept }
    let bytes: [UInt8]
    do { bytes = try client.readMemory(page, count: 0x1000) } catch {
      throw .notBacked(path: path, address: address, count: count)
    }
    guard bytes.count == 0x1000 else { throw .notBacked(path: path, address: address, count: count) }
    if pages.count < Self.maxPages { pages[page] = bytes }
    return bytes
  }
}
