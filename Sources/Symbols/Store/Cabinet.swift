// Extraction of the single file in a compressed symbol-store answer (`.pd_`): a Microsoft
// cabinet. Layout: [MS-CAB] "Cabinet File Format" (CFHEADER, CFFOLDER, CFFILE, CFDATA). Stored and
// MSZIP folders are read (each MSZIP block is "CK" + a deflate stream whose history is the previous
// 32 KiB of output); LZX and Quantum are reported as unsupported.

import BinaryReading

/// Reads the first file of a cabinet.
public enum Cabinet {
  /// Returns the name and content of the cabinet's first file (at most `limit` bytes).
  public static func extractFirstFile(_ bytes: [UInt8], name: String, limit: Int = Decompressor.defaultLimit)
    throws(SymbolsError) -> (name: String, data: [UInt8])
  {
    var c = ByteCursor(bytes, source: name)
    func bad(_ m: String) -> SymbolsError { .corruptCompressed(file: name, format: "cabinet", message: m) }
    do {
      // CFHEADER
      guard try c.readLE(UInt32.self) == 0x4643_534D else { throw bad("bad signature (expected `MSCF`)") }
      try c.skip(4)
      let cbCabinet = try c.readLE(UInt32.self)
      try c.skip(4)
      let coffFiles = Int(try c.readLE(UInt32.self))
      try c.skip(6)  // reserved3, versionMinor, versionMajor
      let cFolders = Int(try c.readLE(UInt16.self))
      let cFiles = Int(try c.readLE(UInt16.self))
      let flags = try c.readLE(UInt16.self)
      try c.skip(4)  // setID, iCabinet
      guard cbCabinet <= bytes.count else {
        throw bad("header says \(cbCabinet) bytes, have \(bytes.count) (truncated)")
      }
      guard cFolders >= 1, cFiles >= 1 else { throw bad("no folder or no file") }
      guard flags & 0x3 == 0 else { throw SymbolsError.unsupported(file: name, what: "multi-cabinet sets") }
      var cbCFFolder = 0
      var cbCFData = 0
      if flags & 0x4 != 0 {
        let cbCFHeader = Int(try c.readLE(UInt16.self))
        cbCFFolder = Int(try c.readLE(UInt8.self))
        cbCFData = Int(try c.readLE(UInt8.self))
        try c.skip(cbCFHeader)
      }
      // The first CFFOLDER.
      let coffCabStart = Int(try c.readLE(UInt32.self))
      let cCFData = Int(try c.readLE(UInt16.self))
      let typeCompress = try c.readLE(UInt16.self)
      try c.skip(cbCFFolder)
      // The first CFFILE.
      try c.seek(to: coffFiles)
      let cbFile = Int(try c.readLE(UInt32.self))
      let uoffFolderStart = Int(try c.readLE(UInt32.self))
      let iFolder = try c.readLE(UInt16.self)
      try c.skip(6)  // date, time, attribs
      let fileName = try c.readUTF8CString(limit: 256)
      guard iFolder == 0 else {
        throw SymbolsError.unsupported(file: name, what: "first file outside the first folder")
      }
      guard cbFile <= limit else { throw SymbolsError.tooLarge(file: name, what: "cabinet file", limit: UInt64(limit)) }
      let method = typeCompress & 0x0F
      switch method {
      case 0, 1: break
      case 2: throw SymbolsError.unsupported(file: name, what: "Quantum-compressed cabinet")
      case 3: throw SymbolsError.unsupported(file: name, what: "unsupported compression: LZX-compressed cabinet")
      default: throw bad("unknown compression type \(typeCompress)")
      }
      // CFDATA blocks.
      try c.seek(to: coffCabStart)
      var out: [UInt8] = []
      for block in 0..<cCFData {
        try c.skip(4)  // csum (optional; not verified)
        let cbData = Int(try c.readLE(UInt16.self))
        let cbUncomp = Int(try c.readLE(UInt16.self))
        try c.skip(cbCFData)
        let data = try c.readBytes(cbData)
        guard out.count <= limit &- cbUncomp else {
          throw SymbolsError.tooLarge(file: name, what: "cabinet content", limit: UInt64(limit))
        }
        if method == 0 {
          out += data
          continue
        }
        guard data.count >= 2, data[0] == 0x43, data[1] == 0x4B else { throw bad("MSZIP block \(block) lacks `CK`") }
        let dictionary = Array(out.suffix(32_768))
        let inflated = try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) throws(SymbolsError) -> [UInt8] in
          try Decompressor.rawInflate(
            UnsafeRawBufferPointer(rebasing: raw[2...]), dictionary: dictionary, name: name, limit: 32_768)
        }
        guard inflated.count == cbUncomp else {
          throw bad("MSZIP block \(block) inflates to \(inflated.count) bytes, header says \(cbUncomp)")
        }
        out += inflated
        if out.count >= uoffFolderStart &+ cbFile { break }
      }
      guard uoffFolderStart &+ cbFile <= out.count else {
        throw bad("file `\(fileName)` needs \(cbFile) bytes at \(uoffFolderStart), folder has \(out.count) (truncated)")
      }
      return (fileName, Array(out[uoffFolderStart..<(uoffFolderStart &+ cbFile)]))
    } catch let e as SymbolsError {
      throw e
    } catch let e as BinaryReadError {
      throw bad(e.description)
    } catch {
      throw bad("\(error)")
    }
  }
}
