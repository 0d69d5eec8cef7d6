// Decodes one type record's bytes (after its u16 length) into a `TypeRecord`.
// Layouts: LLVM "CodeView Type Records" and Microsoft cvinfo.h (lfClass, lfUnion, lfEnum, lfPointer,
// lfArray, lfModifier, lfBitfield, lfProc, lfMFunc, lfArgList).

extension TypeRecord {
  /// Parses the record whose kind is at `c.offset`; `c.end` is the record's end.
  init(parsing c: inout PDBCursor) throws(PDBError) {
    let kind = try c.u16()
    switch kind {
    case LeafKind.classType, LeafKind.structure, LeafKind.interface:
      _ = try c.u16()  // member count
      let property = try c.u16()
      let fieldList = try c.u32()
      _ = try c.u32()  // derived-from list
      _ = try c.u32()  // vtable shape
      let size = try NumericLeaf.readSize(&c, what: "structure size")
      let (name, unique) = try Self.names(&c, property: property)
      let k: UDTKind = kind == LeafKind.classType ? .classType : kind == LeafKind.interface ? .interface : .structure
      self = .udt(
        UDTRecord(
          kind: k, property: property, fieldList: fieldList, size: size, underlyingType: 0, name: name,
          uniqueName: unique))
    case LeafKind.class2, LeafKind.structure2, LeafKind.union2, LeafKind.interface2:
      // u32 property, field list, derived-from, vtable shape, numeric count, numeric size, names.
      let property = UInt16(truncatingIfNeeded: try c.u32())  // the CV_prop_t bits are the low 16
      let fieldList = try c.u32()
      try c.skip(8)
      _ = try NumericLeaf.read(&c)
      let size = try NumericLeaf.readSize(&c, what: "structure size")
      let (name, unique) = try Self.names(&c, property: property)
      let k: UDTKind =
        switch kind {
        case LeafKind.class2: .classType
        case LeafKind.union2: .union
        case LeafKind.interface2: .interface
        default: .structure
        }
      self = .udt(
        UDTRecord(
          kind: k, property: property, fieldList: fieldList, size: size, underlyingType: 0, name: name,
          uniqueName: unique))
    case LeafKind.union:
      _ = try c.u16()
      let property = try c.u16()
      let fieldList = try c.u32()
      let size = try NumericLeaf.readSize(&c, what: "union size")
      let (name, unique) = try Self.names(&c, property: property)
      self = .udt(
        UDTRecord(
          kind: .union, property: property, fieldList: fieldList, size: size, underlyingType: 0, name: name,
          uniqueName: unique))
    case LeafKind.enumeration:
      _ = try c.u16()
      let property = try c.u16()
      let underlying = try c.u32()
      let fieldList = try c.u32()
      let (name, unique) = try Self.names(&c, property: property)
      self = .udt(
        UDTRecord(
          kind: .enumeration, property: property, fieldList: fieldList, size: 0, underlyingType: underlying,
          name: name, uniqueName: unique))
    case LeafKind.fieldList:
      self = .fieldList(start: c.offset, end: c.end)
    case LeafKind.bitfield:
      let type = try c.u32()
      let length = try c.u8()
      let position = try c.u8()
      self = .bitfield(type: type, length: Int(length), position: Int(position))
    case LeafKind.pointer:
      let referent = try c.u32()
      let attributes = try c.u32()
      // Bits 13-18: size in bytes; bits 0-4: pointer kind (CV_PTR_64 = 0x0C → 8, CV_PTR_NEAR32 = 0x0A → 4).
      var size = Int((attributes >> 13) & 0x3F)
      if size == 0 { size = (attributes & 0x1F) == 0x0C ? 8 : 4 }
      self = .pointer(referent: referent, size: size)
    case LeafKind.array:
      let element = try c.u32()
      let indexType = try c.u32()
      let size = try NumericLeaf.readSize(&c, what: "array size")
      self = .array(element: element, indexType: indexType, size: size)
    case LeafKind.modifier:
      let type = try c.u32()
      let modifiers = try c.u16()
      self = .modifier(type: type, modifiers: modifiers)
    case LeafKind.procedure:
      let returnType = try c.u32()
      try c.skip(4)  // calling convention, attributes, parameter count
      let argList = try c.u32()
      self = .procedure(returnType: returnType, argList: argList)
    case LeafKind.memberFunction:
      let returnType = try c.u32()
      try c.skip(4 &+ 4 &+ 4)  // class type, this type, call/attrs/count
      let argList = try c.u32()
      self = .procedure(returnType: returnType, argList: argList)
    case LeafKind.argList:
      let count = try c.u32()
      guard UInt64(count) &* 4 <= UInt64(c.remaining) else {
        throw .absurdValue(
          file: c.file, what: "argument count", value: UInt64(count), limit: UInt64(c.remaining / 4))
      }
      var args: [UInt32] = []
      args.reserveCapacity(Int(count))
      for _ in 0..<count { args.append(try c.u32()) }
      self = .argList(args)
    default:
      self = .other(kind: kind)
    }
  }

  /// The name and, when the property says so, the unique (decorated) name.
  private static func names(_ c: inout PDBCursor, property: UInt16) throws(PDBError) -> (String, String?) {
    let name = try c.cString()
    guard property & TypeProperty.hasUniqueName != 0, c.remaining > 0 else { return (name, nil) }
    return (name, try c.cString())
  }

  /// Only the property, name and unique name of a UDT record (the fast path of the index pass).
  static func udtHeader(
    _ c: inout PDBCursor, kind: UInt16
  ) throws(PDBError) -> (property: UInt16, name: String, unique: String?) {
    if LeafKind.isUDT2(kind) {
      let property = UInt16(truncatingIfNeeded: try c.u32())
      try c.skip(12)
      _ = try NumericLeaf.read(&c)
      _ = try NumericLeaf.read(&c)
      if property & TypeProperty.forwardReference != 0 { return (property, "", nil) }
      let (name, unique) = try names(&c, property: property)
      return (property, name, unique)
    }
    _ = try c.u16()
    let property = try c.u16()
    switch kind {
    case LeafKind.union:
      try c.skip(4)
      _ = try NumericLeaf.read(&c)
    case LeafKind.enumeration:
      try c.skip(8)
    default:
      try c.skip(12)
      _ = try NumericLeaf.read(&c)
    }
    if property & TypeProperty.forwardReference != 0 { return (property, "", nil) }
    let (name, unique) = try names(&c, property: property)
    return (property, name, unique)
  }
}
