// MSF/PDB: superblock, stream directory, every stream, and through PDBProfile the info, DBI,
// section-header, symbol-record (publics, data, procedure references) and TPI streams.

import BinaryReading
import Symbols

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPDB(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let bytes = fuzzBytes(data, size)
  guard let pdb = try? PDBFile(source: InMemoryByteSource(bytes, name: "fuzz.pdb"), name: "fuzz.pdb") else { return 0 }
  for i in 0..<min(pdb.streamCount, 16) { _ = try? pdb.stream(UInt32(i)).readAll() }
  guard let profile = try? PDBProfile(pdb: pdb) else { return 0 }
  _ = try? profile.sections()
  for name in profile.symbolNames.prefix(64) { _ = try? profile.lookupSymbol(name) }
  for name in profile.structNames.prefix(64) {
    _ = try? profile.lookupStructSize(name)
    _ = try? profile.lookupFields(of: name)
    _ = try? profile.lookupEnumeration(name)
  }
  _ = try? profile.lookupSymbol("_PsLoadedModuleList")
  _ = try? profile.constant("CONSTANT")
  return 0
}
