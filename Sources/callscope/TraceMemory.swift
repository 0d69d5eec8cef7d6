// Guest memory as `trace` reads it: virtual addresses through the stub's `m` packets, or through the
// guest's RAM file with `--ram` (TraceRAM) — either way the stopped CPU's own page tables, so user
// addresses are the current process's — with named errors, and a ByteSource over a module for the PE
// reader.

import AddressSpace
import BinaryReading
import GDBRemote

/// Reads of guest virtual memory while the stub has the guest stopped.
struct TraceMemory {
  let client: GDBClient
  /// The guest's RAM file (`--ram`); nil: `m` packets.
  var ram: TraceRAM? = nil

  /// `count` bytes at `va`; the error names what was being read.
  func read(_ va: UInt64, count: Int, what: @autoclosure () -> String) throws -> [UInt8] {
    if let ram {
      do { return try ram.read(va, count: count) } catch {
        throw TraceError.unreadable(what: what(), address: va, reason: "\(error) (\(ram.ram.path))")
      }
    }
    do { return try client.readMemory(va, count: count) } catch {
      throw TraceError.unreadable(what: what(), address: va, reason: "\(error)")
    }
  }

  /// A little-endian unsigned of `width` bytes at `va`.
  func unsigned(_ va: UInt64, width: Int = 8, what: @autoclosure () -> String) throws -> UInt64 {
    GDBClient.littleEndian(try read(va, count: width, what: what()))
  }

  /// A UTF-16LE UNICODE_STRING's text (Length ≤ 1024 bytes), given the offsets of Length and Buffer
  /// and the guest's pointer size.
  func unicodeString(
    at va: UInt64, lengthOffset: UInt64, bufferOffset: UInt64, pointerSize: Int = 8, what: String
  ) throws -> String {
    let length = try unsigned(va &+ lengthOffset, width: 2, what: what + " Length")
    let buffer = try unsigned(va &+ bufferOffset, width: pointerSize, what: what + " Buffer")
    guard length > 0 else { return "" }
    guard length <= 1024, length % 2 == 0 else {
      throw TraceError.unreadable(what: what, address: va, reason: "Length \(length) is odd or above 1024")
    }
    return VirtualAddressSpace.decodeUTF16LE(try read(buffer, count: Int(length), what: what + " characters"))
  }
}

/// A module in guest memory as a byte source (mapped layout), read through the stub.
struct TraceModuleSource: ByteSource, @unchecked Sendable {
  // @unchecked: the client is used from the one thread that drives the trace.
  let memory: TraceMemory
  let base: UInt64
  let size: UInt64
  let sourceName: String

  func read(at offset: UInt64, count: Int) throws -> [UInt8] {
    try checkRange(offset: offset, count: UInt64(max(count, 0)))
    return try memory.read(base &+ offset, count: count, what: sourceName)  // offset + count ≤ size, checked
  }
}
