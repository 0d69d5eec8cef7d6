// Walks an LF_FIELDLIST record's members: data members and enumerators are kept, everything else
// (base classes, methods, nested types, vtable pointers) is decoded just far enough to skip it.
// Pad bytes LF_PAD0…LF_PAD15 (0xF0-0xFF) between members say how many bytes to skip (low nibble).
// Layouts: Microsoft cvinfo.h (lfMember, lfEnumerate, lfNestType, lfBClass, lfVBClass, lfOneMethod,
// lfMethod, lfSTMember, lfVFuncTab, lfIndex) and LLVM "CodeView Type Records".

/// One data member of a struct or union.
struct FieldMember: Sendable {
  var name: String
  var type: UInt32
  var offset: Int
}

/// The contents of one field list record.
struct FieldListContents: Sendable {
  var members: [FieldMember] = []
  var enumerators: [(name: String, value: Int64)] = []
  /// LF_INDEX: the field list continues in this type.
  var continuation: UInt32?
}

enum FieldListParser {
  /// Parses the members in `c` (positioned after the LF_FIELDLIST kind, ending at the record's end).
  static func parse(_ c: inout PDBCursor) throws(PDBError) -> FieldListContents {
    var out = FieldListContents()
    while c.remaining > 0 {
      let leaf = try c.u16()
      switch leaf {
      case LeafKind.member:
        _ = try c.u16()  // attributes
        let type = try c.u32()
        let offset = try NumericLeaf.readSize(&c, what: "member offset")
        let name = try c.cString()
        out.members.append(FieldMember(name: name, type: type, offset: offset))
      case LeafKind.enumerate:
        _ = try c.u16()
        let at = c.offset
        guard let value = try NumericLeaf.read(&c) else {
          throw c.corrupt("enumerator value is not an integer", at: at)
        }
        out.enumerators.append((try c.cString(), value))
      case LeafKind.index:
        _ = try c.u16()
        out.continuation = try c.u32()
      case LeafKind.nestedType, LeafKind.nestedTypeEx:
        try c.skip(2 &+ 4)
        try c.skipCString()
      case LeafKind.baseClass:
        try c.skip(2 &+ 4)
        _ = try NumericLeaf.read(&c)
      case LeafKind.virtualBaseClass, LeafKind.indirectVirtualBaseClass:
        try c.skip(2 &+ 4 &+ 4)
        _ = try NumericLeaf.read(&c)
        _ = try NumericLeaf.read(&c)
      case LeafKind.oneMethod:
        let attributes = try c.u16()
        try c.skip(4)
        let methodProperty = (attributes >> 2) & 0x7
        if methodProperty == 4 || methodProperty == 6 { try c.skip(4) }  // introducing virtual: vbase offset
        try c.skipCString()
      case LeafKind.method:
        try c.skip(2 &+ 4)
        try c.skipCString()
      case LeafKind.staticMember:
        try c.skip(2 &+ 4)
        try c.skipCString()
      case LeafKind.vfuncTab:
        try c.skip(2 &+ 4)
      case LeafKind.vfuncOffset:
        try c.skip(2 &+ 4 &+ 4)
      case LeafKind.friendClass:
        try c.skip(2 &+ 4)
      case LeafKind.friendFunction:
        try c.skip(2 &+ 4)
        try c.skipCString()
      default:
        throw c.corrupt("unknown field list member leaf 0x\(String(leaf, radix: 16))", at: c.offset &- 2)
      }
      // Skip LF_PADn bytes up to the next member.
      while c.remaining > 0 {
        let b = c.bytes[c.offset]  // offset < end ≤ count: remaining > 0
        guard b >= 0xF0 else { break }
        let n = Int(b & 0x0F)
        try c.skip(max(n, 1))
      }
    }
    return out
  }
}
