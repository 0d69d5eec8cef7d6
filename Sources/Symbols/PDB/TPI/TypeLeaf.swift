// The CodeView type records this reader decodes, as a model apart from the byte parsing.
// Leaf values: Microsoft cvinfo.h (LEAF_ENUM_e) and LLVM "CodeView Type Records".

/// Leaf kinds (record kinds and field-list member kinds).
enum LeafKind {
  static let modifier: UInt16 = 0x1001
  static let pointer: UInt16 = 0x1002
  static let procedure: UInt16 = 0x1008
  static let memberFunction: UInt16 = 0x1009
  static let argList: UInt16 = 0x1201
  static let fieldList: UInt16 = 0x1203
  static let bitfield: UInt16 = 0x1205
  static let methodList: UInt16 = 0x1206
  static let baseClass: UInt16 = 0x1400
  static let virtualBaseClass: UInt16 = 0x1401
  static let indirectVirtualBaseClass: UInt16 = 0x1402
  static let index: UInt16 = 0x1404
  static let vfuncTab: UInt16 = 0x1409
  static let enumerate: UInt16 = 0x1502
  static let array: UInt16 = 0x1503
  static let classType: UInt16 = 0x1504
  static let structure: UInt16 = 0x1505
  static let union: UInt16 = 0x1506
  static let enumeration: UInt16 = 0x1507
  static let interface: UInt16 = 0x1519
  static let member: UInt16 = 0x150D
  static let staticMember: UInt16 = 0x150E
  static let method: UInt16 = 0x150F
  static let nestedType: UInt16 = 0x1510
  static let oneMethod: UInt16 = 0x1511
  static let vfuncOffset: UInt16 = 0x140C
  static let friendClass: UInt16 = 0x140B
  static let friendFunction: UInt16 = 0x150C
  static let nestedTypeEx: UInt16 = 0x1512
  // VS2019 16.8+ forms with a 32-bit property and a numeric-leaf member count (undocumented in
  // cvinfo.h; layout per microsoft/microsoft-pdb issue #50 and LLVM's CodeViewTypes.def values).
  static let class2: UInt16 = 0x1608
  static let structure2: UInt16 = 0x1609
  static let union2: UInt16 = 0x160A
  static let interface2: UInt16 = 0x160B

  /// Record kinds that define a user-defined type with a name.
  static func isUDT(_ k: UInt16) -> Bool {
    k == classType || k == structure || k == union || k == enumeration || k == interface || isUDT2(k)
  }

  /// The VS2019+ UDT forms.
  static func isUDT2(_ k: UInt16) -> Bool {
    k == class2 || k == structure2 || k == union2 || k == interface2
  }
}

/// UDT property bits (CV_prop_t).
enum TypeProperty {
  static let forwardReference: UInt16 = 0x0080
  static let hasUniqueName: UInt16 = 0x0200
}

/// What kind of aggregate a UDT is.
public enum UDTKind: String, Sendable {
  case structure = "struct", classType = "class", union, enumeration = "enum", interface
}

/// A user-defined type record (LF_CLASS, LF_STRUCTURE, LF_INTERFACE, LF_UNION, LF_ENUM).
struct UDTRecord: Sendable {
  var kind: UDTKind
  var property: UInt16
  var fieldList: UInt32
  var size: Int
  /// For enums: the underlying integer type.
  var underlyingType: UInt32
  var name: String
  var uniqueName: String?

  var isForwardReference: Bool { property & TypeProperty.forwardReference != 0 }
}

/// One decoded type record.
enum TypeRecord: Sendable {
  case udt(UDTRecord)
  /// LF_FIELDLIST: members are decoded on demand from the record's byte range.
  case fieldList(start: Int, end: Int)
  case bitfield(type: UInt32, length: Int, position: Int)
  case pointer(referent: UInt32, size: Int)
  case array(element: UInt32, indexType: UInt32, size: Int)
  case modifier(type: UInt32, modifiers: UInt16)
  case procedure(returnType: UInt32, argList: UInt32)
  case argList([UInt32])
  /// A kind this reader does not model (kept so callers can name it).
  case other(kind: UInt16)
}
