// Names → addresses from the global symbol record stream: S_PUB32 publics, S_GDATA32/S_LDATA32
// data, S_PROCREF/S_LPROCREF (resolved through the module's own symbol stream to S_GPROC32/S_LPROC32)
// and S_CONSTANT values. Built by one scan of the records, on first use.
// Layouts: LLVM "CodeView Symbol Records" and "The PDB Global Symbol/Public Stream"; Microsoft
// cvinfo.h (PUBSYM32, DATASYM32, REFSYM2, PROCSYM32, CONSTSYM). Records are u16 length, u16 kind.

/// Where a named symbol lives.
public struct PDBSymbol: Sendable, Hashable {
  /// What record named it.
  public enum Kind: String, Sendable {
    case publicSymbol = "public", globalData, localData, globalProcedure, localProcedure
  }
  public let name: String
  public let kind: Kind
  public let segment: UInt16
  public let offset: UInt32
}

/// Symbol record kinds used here.
enum SymbolKind {
  static let constant: UInt16 = 0x1107
  static let localData: UInt16 = 0x110C
  static let globalData: UInt16 = 0x110D
  static let publicSymbol: UInt16 = 0x110E
  static let localProc: UInt16 = 0x110F
  static let globalProc: UInt16 = 0x1110
  static let procRef: UInt16 = 0x1125
  static let localProcRef: UInt16 = 0x1127
}

/// A procedure reference: the module (1-based) and the offset of its S_*PROC32 in that module's stream.
struct ProcedureReference: Sendable {
  let module: UInt16
  let symbolOffset: UInt32
  let isLocal: Bool
}

/// The scanned symbol records.
struct PDBSymbolTable: Sendable {
  /// Publics and data symbols, by exact name (publics win over data of the same name).
  var symbols: [String: PDBSymbol] = [:]
  /// Procedure references by name (used when no public names the procedure).
  var procedures: [String: ProcedureReference] = [:]
  /// S_CONSTANT values by name.
  var constants: [String: Int64] = [:]
  /// Undecorated (x86 `_Name`, `_Name@8`, `@Name@8`) → decorated names, only for 32-bit x86 PDBs.
  var undecorated: [String: String] = [:]

  /// Scans the symbol record stream's bytes.
  init(bytes: [UInt8], file: String, decorateX86: Bool) throws(PDBError) {
    var c = PDBCursor(bytes, file: file, structure: "symbol record stream")
    while c.remaining >= 4 {
      let start = c.offset
      let length = Int(try c.u16())
      let end = start &+ 2 &+ length  // length < 2^16
      guard length >= 2, end <= c.end else {
        throw c.corrupt("record length \(length) runs past the stream end \(c.end)", at: start)
      }
      let kind = try c.u16()
      var r = PDBCursor(bytes, file: file, structure: "symbol record", offset: c.offset, end: end)
      switch kind {
      case SymbolKind.publicSymbol:
        _ = try r.u32()  // flags
        let offset = try r.u32()
        let segment = try r.u16()
        let name = try r.cString()
        symbols[name] = PDBSymbol(name: name, kind: .publicSymbol, segment: segment, offset: offset)
      case SymbolKind.globalData, SymbolKind.localData:
        _ = try r.u32()  // type index
        let offset = try r.u32()
        let segment = try r.u16()
        let name = try r.cString()
        if symbols[name] == nil || (symbols[name]?.kind == .localData && kind == SymbolKind.globalData) {
          let k: PDBSymbol.Kind = kind == SymbolKind.globalData ? .globalData : .localData
          symbols[name] = PDBSymbol(name: name, kind: k, segment: segment, offset: offset)
        }
      case SymbolKind.procRef, SymbolKind.localProcRef:
        _ = try r.u32()  // SUC of the name
        let symbolOffset = try r.u32()
        let module = try r.u16()
        let name = try r.cString()
        if procedures[name] == nil || kind == SymbolKind.procRef {
          procedures[name] = ProcedureReference(
            module: module, symbolOffset: symbolOffset, isLocal: kind == SymbolKind.localProcRef)
        }
      case SymbolKind.constant:
        _ = try r.u32()
        if let value = try NumericLeaf.read(&r) { constants[try r.cString()] = value }
      default:
        break
      }
      try c.seek(to: end)
    }
    if decorateX86 {
      for name in Array(symbols.keys) + Array(procedures.keys) {
        if let plain = Self.undecorate(name), symbols[plain] == nil, procedures[plain] == nil,
          undecorated[plain] == nil
        {
          undecorated[plain] = name
        }
      }
    }
  }

  /// `_Name` / `_Name@12` / `@Name@8` → `Name` (X86Decoration).
  static func undecorate(_ name: String) -> String? { X86Decoration.undecorate(name) }

  /// Reads the S_GPROC32/S_LPROC32 a procedure reference points to, from its module's stream.
  static func resolve(
    _ ref: ProcedureReference, name: String, pdb: PDBFile, dbi: DBIStream
  ) throws(PDBError) -> PDBSymbol? {
    guard ref.module >= 1, Int(ref.module) <= dbi.modules.count else {
      throw .corrupt(
        file: pdb.path, structure: "S_PROCREF `\(name)`", offset: UInt64(ref.symbolOffset),
        message: "module \(ref.module) out of range (\(dbi.modules.count) modules)")
    }
    let module = dbi.modules[Int(ref.module) &- 1]
    guard module.symbolStream != 0xFFFF else { return nil }
    let stream = try pdb.stream(UInt32(module.symbolStream))
    // Header of PROCSYM32: length, kind, parent, end, next, length, debug start/end, type, offset, segment.
    let head = try stream.bytes(at: UInt64(ref.symbolOffset), count: 4 &+ 7 &* 4 &+ 4 &+ 2)
    var r = PDBCursor(head, file: pdb.path, structure: "module \(ref.module) symbol at \(ref.symbolOffset)")
    _ = try r.u16()
    let kind = try r.u16()
    guard kind == SymbolKind.globalProc || kind == SymbolKind.localProc else {
      throw r.corrupt("S_PROCREF `\(name)` points at record kind 0x\(String(kind, radix: 16)), not a procedure")
    }
    try r.skip(7 &* 4)
    let offset = try r.u32()
    let segment = try r.u16()
    let k: PDBSymbol.Kind = kind == SymbolKind.globalProc ? .globalProcedure : .localProcedure
    return PDBSymbol(name: name, kind: k, segment: segment, offset: offset)
  }
}
