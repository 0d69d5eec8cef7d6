// The PDB info stream (stream 1): version, signature, age, GUID and the named stream map.
// Layout: LLVM "The PDB Info Stream" (PdbStreamHeader, Named Stream Map as a serialized hash table:
// size, capacity, present and deleted bit vectors, then key/value pairs for present buckets).

import BinaryReading

/// The validated PDB info stream.
public struct PDBInfoStream: Sendable, Hashable {
  /// Versions (PdbStreamVersion): VC70 = 20000404 … VC140 = 20140508; older ones carry no GUID.
  public static let vc70: UInt32 = 20_000_404

  public let version: UInt32
  public let signature: UInt32
  public let age: UInt32
  /// The 16 GUID bytes as stored.
  public let guidBytes: [UInt8]
  /// Named streams (`/names`, `/LinkInfo`, `/src/headerblock` …) → stream number.
  public let namedStreams: [String: UInt32]

  /// The GUID in symbol-store order (see `PDBIdentity.guidString(fromRaw:)`).
  public var guid: String { PDBIdentity.guidString(fromRaw: guidBytes) ?? "" }

  /// Parses stream 1's bytes.
  init(bytes: [UInt8], file: String) throws(PDBError) {
    var c = PDBCursor(bytes, file: file, structure: "PDB info stream")
    version = try c.u32()
    signature = try c.u32()
    age = try c.u32()
    guard version >= Self.vc70 else {
      throw .unsupported(file: file, what: "PDB info stream version \(version) (before VC70, no GUID)")
    }
    guidBytes = try c.bytes(16)
    namedStreams = try Self.parseNamedStreams(&c)
  }

  private static func parseNamedStreams(_ c: inout PDBCursor) throws(PDBError) -> [String: UInt32] {
    let stringsLength = Int(try c.u32())
    let stringsStart = c.offset
    guard stringsLength <= c.remaining else {
      throw .absurdValue(
        file: c.file, what: "named stream map string buffer length", value: UInt64(stringsLength),
        limit: UInt64(c.remaining))
    }
    try c.skip(stringsLength)
    let size = try c.u32()
    let capacity = try c.u32()
    guard size <= capacity, capacity <= UInt32(c.remaining) else {
      throw .absurdValue(
        file: c.file, what: "named stream map size/capacity", value: UInt64(max(size, capacity)),
        limit: UInt64(c.remaining))
    }
    let present = try readBitVector(&c)
    _ = try readBitVector(&c)  // deleted buckets: nothing to read for them
    var result: [String: UInt32] = [:]
    var names = PDBCursor(
      c.bytes, file: c.file, structure: "named stream map strings", offset: stringsStart,
      end: stringsStart &+ stringsLength)
    for (word, bits) in present.enumerated() where bits != 0 {
      for bit in 0..<32 where bits & (1 << UInt32(bit)) != 0 {
        guard word &* 32 &+ bit < Int(capacity) else { throw c.corrupt("present bucket beyond capacity \(capacity)") }
        let key = try c.u32()
        let value = try c.u32()
        guard Int(key) < stringsLength else { throw c.corrupt("name offset \(key) past string buffer") }
        try names.seek(to: stringsStart &+ Int(key))
        result[try names.cString()] = value
      }
    }
    guard result.count <= Int(size) else { throw c.corrupt("more present buckets than the map's size \(size)") }
    return result
  }

  private static func readBitVector(_ c: inout PDBCursor) throws(PDBError) -> [UInt32] {
    let words = try c.u32()
    guard UInt64(words) &* 4 <= UInt64(c.remaining) else {
      throw .absurdValue(
        file: c.file, what: "bit vector word count", value: UInt64(words), limit: UInt64(c.remaining / 4))
    }
    var v: [UInt32] = []
    v.reserveCapacity(Int(words))
    for _ in 0..<words { v.append(try c.u32()) }
    return v
  }
}
