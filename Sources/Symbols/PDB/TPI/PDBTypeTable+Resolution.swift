// Resolves type indices into `FieldType`s and sizes: forward references to their definitions by
// (unique) name, modifiers to what they modify, arrays to element counts. Every walk is bounded in
// depth and remembers what it visited, so a type graph with cycles ends in `PDBError.typeCycle`.

extension PDBTypeTable {
  /// Deepest chain of pointer/array/modifier/bitfield records followed for one field.
  static let maxDepth = 64

  /// The definition a forward reference stands for (itself when it is not one; nil when undefined).
  func definition(of index: UInt32) throws(PDBError) -> (UInt32, UDTRecord)? {
    guard case .udt(let u) = try record(index) else { return nil }
    guard u.isForwardReference else { return (index, u) }
    var target: UInt32?
    if let un = u.uniqueName { target = definitionsByUniqueName[un] }
    if target == nil {
      target = u.kind == .enumeration ? enumsByName[u.name] : aggregatesByName[u.name]
    }
    guard let t = target, case .udt(let d) = try record(t), !d.isForwardReference else { return nil }
    return (t, d)
  }

  /// The size in bytes of the type `index`.
  func size(of index: UInt32) throws(PDBError) -> Int {
    var seen: Set<UInt32> = []
    return try size(of: index, seen: &seen)
  }

  private func size(of index: UInt32, seen: inout Set<UInt32>) throws(PDBError) -> Int {
    if let s = SimpleType(index: index) { return s.pointerSize ?? s.size }
    guard seen.count < Self.maxDepth, seen.insert(index).inserted else {
      throw .typeCycle(file: file, index: index, depth: seen.count)
    }
    switch try record(index) {
    case .udt(let u):
      if u.kind == .enumeration {
        return try size(of: u.underlyingType, seen: &seen)
      }
      guard u.isForwardReference else { return u.size }
      return try definition(of: index)?.1.size ?? 0
    case .pointer(_, let size): return size
    case .array(_, _, let size): return size
    case .modifier(let type, _): return try size(of: type, seen: &seen)
    case .bitfield(let type, _, _): return try size(of: type, seen: &seen)
    default: return 0
    }
  }

  /// The `FieldType` of type `index`.
  func fieldType(_ index: UInt32) throws(PDBError) -> FieldType {
    var seen: Set<UInt32> = []
    return try fieldType(index, seen: &seen)
  }

  private func fieldType(_ index: UInt32, seen: inout Set<UInt32>) throws(PDBError) -> FieldType {
    if let s = SimpleType(index: index) {
      let base = FieldType.base(name: s.name, size: s.size)
      guard let p = s.pointerSize else { return base }
      return .pointer(to: base, size: p)
    }
    guard seen.count < Self.maxDepth, seen.insert(index).inserted else {
      throw .typeCycle(file: file, index: index, depth: seen.count)
    }
    switch try record(index) {
    case .udt(let u):
      let d = try definition(of: index)?.1 ?? u
      if d.kind == .enumeration {
        return .enumeration(name: d.name, size: try size(of: d.underlyingType, seen: &seen))
      }
      return .structure(name: d.name)
    case .pointer(let referent, let size):
      return .pointer(to: try fieldType(referent, seen: &seen), size: size)
    case .array(let element, _, let size):
      var elementSeen = seen
      let elementType = try fieldType(element, seen: &seen)
      let elementSize = try self.size(of: element, seen: &elementSeen)
      return .array(of: elementType, count: elementSize > 0 ? size / elementSize : 0)
    case .modifier(let type, _):
      return try fieldType(type, seen: &seen)
    case .bitfield(let type, _, _):
      return try fieldType(type, seen: &seen)
    case .procedure:
      return .function
    case .fieldList, .argList:
      return .unknown("type \(Self.hex(index)) is not a data type")
    case .other(let kind):
      return .unknown("leaf 0x\(String(kind, radix: 16))")
    }
  }

  /// A struct/class/union definition by name.
  func aggregate(named name: String) throws(PDBError) -> (UInt32, UDTRecord)? {
    guard let i = aggregatesByName[name], case .udt(let u) = try record(i) else { return nil }
    return (i, u)
  }

  /// Every data member of the aggregate `name`, with type, offset and bitfield position.
  func members(of name: String) throws(PDBError) -> [(name: String, info: FieldInfo)]? {
    guard let (_, u) = try aggregate(named: name) else { return nil }
    guard u.fieldList != 0 else { return [] }
    let list = try fieldList(u.fieldList)
    var out: [(name: String, info: FieldInfo)] = []
    out.reserveCapacity(list.members.count)
    for m in list.members where !m.name.isEmpty {
      var position: Int?
      var length: Int?
      if contains(m.type), case .bitfield(_, let l, let p) = try record(m.type) {
        position = p
        length = l
      }
      let info = FieldInfo(
        offset: m.offset, type: try fieldType(m.type), bitPosition: position, bitLength: length, provenance: .pdb)
      out.append((m.name, info))
    }
    return out
  }

  /// An enumeration's constants by name.
  func enumerators(of name: String) throws(PDBError) -> [String: Int64]? {
    guard let i = enumsByName[name], case .udt(let u) = try record(i) else { return nil }
    guard u.fieldList != 0 else { return [:] }
    var out: [String: Int64] = [:]
    for e in try fieldList(u.fieldList).enumerators { out[e.name] = e.value }
    return out
  }
}
