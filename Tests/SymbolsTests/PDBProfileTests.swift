// PDB reader against independent oracles: llvm-pdbutil's dumps, llvm-readobj's RSDS record and
// Volatility 3's pdbconv, on PDBs built from C sources by clang + lld-link.

import Foundation
import TestData
import Testing

@testable import Symbols

@Suite("PDB reader vs llvm-pdbutil / llvm-readobj / pdbconv")
struct PDBProfileTests {
  @Test("GUID and age match llvm-pdbutil -summary and the DLL's RSDS record")
  func identity() throws {
    let built = try PDBFixtures.kernel64()
    let p = try PDBProfile(path: built.pdb)
    let dump = try PDBUtilDump(pdb: built.pdb)
    // llvm-pdbutil prints the GUID in the registry form {Data1-Data2-Data3-Data4}, i.e. store order.
    #expect(p.identity.guid == dump.guid)
    #expect(p.info.age == dump.age)
    #expect(p.identity.name == (built.pdb as NSString).lastPathComponent)

    let ro = try TestData.run(try TestData.which("llvm-readobj"), ["--coff-debug-directory", built.dll]).stdout
    let raw = try #require(capture(#"PDBGUID: \(([0-9A-F ]+)\)"#, in: ro))[0].split(separator: " ")
      .compactMap { UInt8($0, radix: 16) }
    #expect(p.info.guidBytes == raw)
    #expect(p.identity.guid == PDBIdentity.guidString(fromRaw: raw))
    let age = try #require(capture(#"PDBAge: (\d+)"#, in: ro)).first.flatMap { UInt32($0) }
    #expect(p.identity.age == age)
  }

  @Test("every public's RVA matches llvm-pdbutil -publics with -section-headers")
  func publics() throws {
    for built in [try PDBFixtures.kernel64(), try PDBFixtures.kernel32(), try PDBFixtures.cpp()] {
      let p = try PDBProfile(path: built.pdb)
      let dump = try PDBUtilDump(pdb: built.pdb)
      #expect(dump.publics.count >= 6)
      for (name, addr) in dump.publics {
        let expected = try #require(dump.rva(addr))
        #expect(try p.lookupSymbol(name)?.rva == expected, "public \(name)")
        #expect(try p.lookupSymbolRecord(name)?.kind == .publicSymbol)
      }
      #expect(Set(dump.publics.keys).isSubset(of: Set(p.symbolNames)))
      #expect(p.symbol("NoSuchSymbol") == nil)
    }
  }

  @Test("globals (S_GDATA32/S_LDATA32) and procedures (S_PROCREF → S_GPROC32/S_LPROC32) match llvm-pdbutil")
  func globals() throws {
    let built = try PDBFixtures.kernel64()
    let p = try PDBProfile(path: built.pdb)
    let dump = try PDBUtilDump(pdb: built.pdb)
    #expect(dump.data["sCounter"] != nil && dump.procedures["helper"] != nil)
    for (name, addr) in dump.data {
      #expect(try p.lookupSymbol(name)?.rva == dump.rva(addr), "data \(name)")
    }
    for (name, addr) in dump.procedures {
      #expect(try p.lookupSymbol(name)?.rva == dump.rva(addr), "procedure \(name)")
    }
    #expect(try p.lookupSymbolRecord("helper")?.kind == .localProcedure)
    #expect(try p.lookupSymbolRecord("sLater")?.kind == .localData)
  }

  @Test("32-bit PDB: decorated publics, looked up by their undecorated names too")
  func x86Decoration() throws {
    let built = try PDBFixtures.kernel32()
    let p = try PDBProfile(path: built.pdb)
    let dump = try PDBUtilDump(pdb: built.pdb)
    #expect(p.dbi.machine == 0x014C)
    // The decorated forms llvm-pdbutil lists, and the plain names a kernel lookup uses.
    let pairs = [
      ("_PsLoadedModuleList", "PsLoadedModuleList"), ("_KeFoo@8", "KeFoo"), ("@FastOne@4", "FastOne"),
      ("_gDev", "gDev"), ("_PspCreateProcessNotifyRoutine", "PspCreateProcessNotifyRoutine"),
    ]
    for (decorated, plain) in pairs {
      let addr = try #require(dump.publics[decorated], "llvm-pdbutil lists \(decorated)")
      #expect(try p.lookupSymbol(decorated)?.rva == dump.rva(addr))
      #expect(try p.lookupSymbol(plain)?.rva == dump.rva(addr), "\(plain) → \(decorated)")
    }
    #expect(try p.lookupStructSize("_LIST_ENTRY") == 8)
    #expect(try p.lookupField("_LIST_ENTRY", "Blink")?.offset == 4)
  }

  @Test("every struct's size, member offsets and bitfields match llvm-pdbutil -types")
  func typesVersusPdbutil() throws {
    for built in [try PDBFixtures.kernel64(), try PDBFixtures.kernel32(), try PDBFixtures.cpp()] {
      let p = try PDBProfile(path: built.pdb)
      let dump = try PDBUtilDump(pdb: built.pdb)
      let defs = dump.definitions
      #expect(defs.count >= 6)
      for (name, agg) in defs {
        #expect(try p.lookupStructSize(name) == agg.size, "sizeof \(name)")
        let members = agg.fieldList.flatMap { dump.fieldLists[$0] } ?? []
        let ours = try #require(try p.lookupFields(of: name), "fields of \(name)")
        #expect(ours.count == Set(members.map(\.name)).count, "\(name) member count")
        for m in members {
          let f = try #require(ours[m.name], "\(name).\(m.name)")
          #expect(f.offset == m.offset, "\(name).\(m.name) offset")
          if let (pos, len) = dump.bitfields[m.type] {
            #expect(f.bitPosition == pos && f.bitLength == len, "\(name).\(m.name) bitfield")
          } else {
            #expect(f.bitPosition == nil && f.bitLength == nil)
          }
        }
      }
      for (name, list) in dump.enums {
        #expect(try p.lookupEnumeration(name) == dump.enumerators[list], "enum \(name)")
      }
      #expect(Set(defs.keys).isSubset(of: Set(p.structNames)))
    }
  }

  @Test("field types, sizes and symbols match Volatility 3's pdbconv")
  func typesVersusPdbconv() throws {
    let built = try PDBFixtures.kernelForVolatility()
    let p = try PDBProfile(path: built.pdb)
    let json = try pdbconv(built.pdb)
    let meta = try #require((json["metadata"] as? [String: Any])?["windows"] as? [String: Any])
    let pdbMeta = try #require(meta["pdb"] as? [String: Any])
    #expect(p.identity.guid == pdbMeta["GUID"] as? String)
    #expect(Int(p.identity.age) == pdbMeta["age"] as? Int)
    #expect(Int(p.dbi.machine) == pdbMeta["machine_type"] as? Int)

    let baseTypes = try #require(json["base_types"] as? [String: [String: Any]])
    let userTypes = try #require(json["user_types"] as? [String: [String: Any]])
    #expect(userTypes.count >= 5)
    for (name, t) in userTypes {
      #expect(try p.lookupStructSize(name) == t["size"] as? Int, "sizeof \(name)")
      let fields = try #require(t["fields"] as? [String: [String: Any]])
      let ours = try #require(try p.lookupFields(of: name))
      #expect(ours.count == fields.count, "\(name) field count")
      for (fname, f) in fields {
        let mine = try #require(ours[fname], "\(name).\(fname)")
        #expect(mine.offset == f["offset"] as? Int, "\(name).\(fname) offset")
        var vt = try #require(f["type"] as? [String: Any])
        if vt["kind"] as? String == "bitfield" {
          #expect(mine.bitPosition == vt["bit_position"] as? Int && mine.bitLength == vt["bit_length"] as? Int)
          vt = try #require(vt["type"] as? [String: Any])
        }
        #expect(Self.same(mine.type, vt, baseTypes), "\(name).\(fname): \(mine.type) vs \(vt)")
      }
    }
    let enums = try #require(json["enums"] as? [String: [String: Any]])
    for (name, e) in enums {
      let constants = try #require(e["constants"] as? [String: Int])
      #expect(try p.lookupEnumeration(name) == constants.mapValues { Int64($0) }, "enum \(name)")
    }
    // pdbconv derives S_PROCREF addresses from the reference offset, not the procedure: publics only.
    let symbols = try #require(json["symbols"] as? [String: [String: Any]])
    let dump = try PDBUtilDump(pdb: built.pdb)
    for name in dump.publics.keys {
      let address = try #require(symbols[name]?["address"] as? Int, "pdbconv has \(name)")
      #expect(try p.lookupSymbol(name)?.rva == UInt64(address), "symbol \(name)")
    }
  }

  /// Compares our field type with pdbconv's JSON type description.
  static func same(_ ours: FieldType, _ theirs: [String: Any], _ base: [String: [String: Any]]) -> Bool {
    let kind = theirs["kind"] as? String
    switch ours {
    case .base(let name, let size):
      if name == "void" { return kind == "base" && theirs["name"] as? String == "void" }
      guard kind == "base", let b = theirs["name"] as? String else { return false }
      return base[b]?["size"] as? Int == size
    case .pointer(let to, _):
      guard kind == "pointer", let sub = theirs["subtype"] as? [String: Any] else { return false }
      return same(to, sub, base)
    case .array(let of, let count):
      guard kind == "array", theirs["count"] as? Int == count, let sub = theirs["subtype"] as? [String: Any] else {
        return false
      }
      return same(of, sub, base)
    case .structure(let name):
      return (kind == "struct" || kind == "union") && theirs["name"] as? String == name
    case .enumeration(let name, _):
      return kind == "enum" && theirs["name"] as? String == name
    case .function:
      return kind == "function"
    case .unknown:
      return false
    }
  }

  @Test("C++: mangled publics unchanged, base classes and methods skipped, forward reference by unique name")
  func cplusplus() throws {
    let p = try PDBProfile(path: try PDBFixtures.cpp().pdb)
    #expect(try p.lookupSymbolRecord("?gDerived@@3UDerived@nt@@A")?.kind == .publicSymbol)
    // The plain name comes from the S_GDATA32 record (debug info), at the same address.
    #expect(try p.lookupSymbolRecord("gDerived")?.kind == .globalData)
    #expect(try p.lookupSymbol("gDerived")?.rva == p.lookupSymbol("?gDerived@@3UDerived@nt@@A")?.rva)
    #expect(try p.lookupField("nt::Derived", "fwd")?.type == .pointer(to: .structure(name: "nt::Fwd"), size: 8))
    #expect(try p.lookupField("nt::Derived", "col")?.type == .enumeration(name: "nt::Derived::Color", size: 1))
    #expect(try p.lookupEnumeration("nt::Derived::Color") == ["Red": 1, "Green": 2])
    #expect(try p.lookupField("nt::Derived", "in")?.type == .structure(name: "nt::Derived::Inner"))
    #expect(try p.lookupField("nt::Derived", "sCount") == nil)  // static: not a data member
  }

  @Test("field types: pointers to self, forward references resolved, arrays, function pointers, enums")
  func fieldTypes() throws {
    let p = try PDBProfile(path: try PDBFixtures.kernel64().pdb)
    #expect(try p.lookupField("_DEV", "Self")?.type == .pointer(to: .structure(name: "_DEV"), size: 8))
    // `struct _LATER` was forward-declared, used through a pointer, and defined afterwards.
    #expect(try p.lookupField("_DEV", "Fwd")?.type == .pointer(to: .structure(name: "_LATER"), size: 8))
    #expect(try p.lookupStructSize("_LATER") == 32)
    #expect(try p.lookupField("_LATER", "Entry")?.offset == 16)
    #expect(
      try p.lookupField("_DEV", "Grid")?.type
        == .array(of: .array(of: .base(name: "unsigned char", size: 1), count: 5), count: 3))
    #expect(try p.lookupField("_DEV", "Routine")?.type == .pointer(to: .function, size: 8))
    #expect(try p.lookupField("_DEV", "Mode")?.type == .enumeration(name: "_KMODE", size: 4))
    #expect(
      try p.lookupField("_DEV", "Handles")?.type
        == .array(of: .pointer(to: .base(name: "void", size: 0), size: 8), count: 7))
    #expect(p.offset("_DEV", "NoSuchField") == nil)
    #expect(p.structSize("NO_SUCH_STRUCT") == nil)
  }
}
