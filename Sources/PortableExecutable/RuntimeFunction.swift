// The exception directory of x64 images (PE Format, "The .pdata Section"): an array of 12-byte
// RUNTIME_FUNCTION entries — Begin Address 0, End Address 4, Unwind Information 8, all RVAs —
// sorted by begin address, which is what lets a function's extent be found by binary search.

import BinaryReading

/// One x64 function-table entry.
public struct RuntimeFunction: Sendable, Equatable {
  /// RVA of the function's first byte.
  public let beginAddress: UInt32
  /// RVA just past the function's last byte.
  public let endAddress: UInt32
  /// RVA of the UNWIND_INFO (low bit set: an RVA of another RUNTIME_FUNCTION, for chained entries).
  public let unwindInfoAddress: UInt32

  /// Builds an entry from its three RVAs.
  public init(beginAddress: UInt32, endAddress: UInt32, unwindInfoAddress: UInt32) {
    self.beginAddress = beginAddress
    self.endAddress = endAddress
    self.unwindInfoAddress = unwindInfoAddress
  }

  /// Whether `rva` lies in [beginAddress, endAddress).
  public func contains(_ rva: UInt32) -> Bool { rva >= beginAddress && rva < endAddress }

  /// The entry of `table` (sorted by beginAddress, as the spec requires) whose range holds `rva`:
  /// a binary search for the last entry beginning at or before `rva`.
  public static func lookup(_ rva: UInt32, in table: [RuntimeFunction]) -> RuntimeFunction? {
    var low = 0
    var high = table.count  // search [low, high) for the first entry beginning after rva
    while low < high {
      let mid = low + (high - low) / 2  // low < high ≤ count: no overflow
      if table[mid].beginAddress <= rva { low = mid + 1 } else { high = mid }
    }
    guard low > 0 else { return nil }
    let candidate = table[low - 1]  // low - 1 < count
    return candidate.contains(rva) ? candidate : nil
  }
}

extension PEImage {
  /// Size of an x64 RUNTIME_FUNCTION.
  static let runtimeFunctionSize = 12
  /// Bound on the table: far above ntoskrnl's tens of thousands of functions.
  static let maximumRuntimeFunctions = 0x10_0000

  /// The x64 function table, in file order, up to its first all-zero entry; empty if the image has
  /// no exception directory.
  public func exceptionDirectory() throws(PEError) -> [RuntimeFunction] {
    guard let dir = optionalHeader.directory(.exception), dir.isPresent else { return [] }
    let structure = "exception directory"
    guard fileHeader.machine == COFFMachine.amd64 else {
      throw .unsupported(
        source: sourceName, offset: UInt64(dir.rva), structure: structure,
        detail: "function tables are read for AMD64 only (machine 0x\(String(fileHeader.machine, radix: 16)))")
    }
    // A size that is not a multiple of 12 happens in real images (padding); the spare bytes are ignored.
    let count = Int(dir.size) / Self.runtimeFunctionSize
    guard count <= Self.maximumRuntimeFunctions else {
      throw .corrupt(
        source: sourceName, offset: UInt64(dir.rva), structure: structure,
        detail: "\(count) entries (at most \(Self.maximumRuntimeFunctions) expected)")
    }
    let b = try read(rva: dir.rva, count: count * Self.runtimeFunctionSize, structure: structure)
    var table: [RuntimeFunction] = []
    table.reserveCapacity(count)
    for i in 0..<count {
      let at = i * Self.runtimeFunctionSize  // i < 2^20
      let entry = RuntimeFunction(
        beginAddress: try b.u32(at), endAddress: try b.u32(at + 4), unwindInfoAddress: try b.u32(at + 8))
      // An all-zero entry describes no function: it is padding, or the zero fill of a section past its
      // raw data, and ends the table (so a hostile size costs work in proportion to the file, not to it).
      if entry.beginAddress == 0, entry.endAddress == 0, entry.unwindInfoAddress == 0 { break }
      table.append(entry)
    }
    return table
  }

  /// The function-table entry whose range holds `rva`, or nil.
  public func runtimeFunction(containing rva: UInt32) throws(PEError) -> RuntimeFunction? {
    RuntimeFunction.lookup(rva, in: try exceptionDirectory())
  }
}
