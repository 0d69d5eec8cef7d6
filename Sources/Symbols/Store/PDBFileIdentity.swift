// The identity (GUID, age, file name) of a PDB file, read minimally to verify what a store or a
// server hands back: the MSF container (the one reader in PDB/MSF), then the PDB info stream
// (stream 1: GUID) and the DBI stream header (stream 3: age). Layouts: LLVM's "The PDB Info Stream"
// and "The PDB DBI Stream" (llvm.org/docs/PDB).

import BinaryReading

/// Reads a PDB file's identity without parsing the rest of it.
public enum PDBFileIdentity {
  /// The identity of the PDB at `path`; `name` defaults to the file's last path component.
  public static func read(path: String, name: String? = nil) throws(SymbolsError) -> PDBIdentity {
    let file: MappedFile
    do { file = try MappedFile(path: path) } catch { throw .read(error) }
    do {
      let pdb = try PDBFile(source: file, name: path)
      let info = try PDBInfoStream(bytes: try pdb.stream(.info).readAll(), file: path)
      var age = info.age
      // DBI stream header: VersionSignature, VersionHeader, Age — the age debuggers match.
      if pdb.streamCount > 3 {
        let dbi = try pdb.stream(.dbi)
        if dbi.size >= 12 {
          let header = try dbi.bytes(at: 8, count: 4)
          age = UInt32(header[0]) | UInt32(header[1]) << 8 | UInt32(header[2]) << 16 | UInt32(header[3]) << 24
        }
      }
      guard let guid = PDBIdentity.guidString(fromRaw: info.guidBytes) else {
        throw SymbolsError.corruptPDB(file: path, offset: 0, message: "GUID is not 16 bytes")
      }
      let fileName = name ?? String(path.split(separator: "/").last ?? Substring(path))
      return PDBIdentity(name: fileName, guid: guid, age: age)
    } catch let error as PDBError {
      throw .corruptPDB(file: path, offset: error.offset, message: error.description)
    } catch let error as SymbolsError {
      throw error
    } catch {
      throw .corruptPDB(file: path, offset: 0, message: "\(error)")
    }
  }
}

extension PDBError {
  /// The file offset the error names, or 0 when it names none.
  var offset: UInt64 {
    switch self {
    case .truncated(_, _, let offset, _, _), .corrupt(_, _, let offset, _): return offset
    default: return 0
    }
  }
}
