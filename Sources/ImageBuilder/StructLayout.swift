// Struct layouts the builder writes kernel structures with: field offsets (and widths) come from a
// table handed in — an ISF/PDB-derived table per build — never from constants in the writers.

/// The layout of one structure: its size and its fields' offsets and widths.
public struct StructLayout: Sendable, Hashable {
  /// A field: byte offset and width in bytes (0 when unknown; then writes need explicit widths).
  public struct Field: Sendable, Hashable {
    public let offset: Int
    public let size: Int
    public init(offset: Int, size: Int = 0) {
      self.offset = offset
      self.size = size
    }
  }

  public let name: String
  public let size: Int
  public let fields: [String: Field]

  public init(name: String, size: Int, fields: [String: Field]) {
    self.name = name
    self.size = size
    self.fields = fields
  }

  /// A layout from plain offsets (field widths unknown).
  public init(name: String, size: Int, offsets: [String: Int]) {
    self.init(name: name, size: size, fields: offsets.mapValues { Field(offset: $0) })
  }

  /// The field called `name`, or an error naming the struct and field.
  public func field(_ name: String) throws -> Field {
    guard let field = fields[name] else { throw ImageBuilderError.unknownLayout(structure: self.name, field: name) }
    return field
  }
}

/// The layouts of one kernel build, by struct name (e.g. `_KUSER_SHARED_DATA`).
public struct LayoutTable: Sendable, Hashable {
  public var structs: [String: StructLayout]

  public init(_ layouts: [StructLayout]) {
    var table: [String: StructLayout] = [:]
    for layout in layouts { table[layout.name] = layout }
    structs = table
  }

  /// A table from `[struct: [field: offset]]` and optional `[struct: size]`.
  public init(offsets: [String: [String: Int]], sizes: [String: Int] = [:]) {
    self.init(offsets.map { StructLayout(name: $0.key, size: sizes[$0.key] ?? 0, offsets: $0.value) })
  }

  /// The layout called `name`, or an error naming it.
  public func layout(_ name: String) throws -> StructLayout {
    guard let layout = structs[name] else { throw ImageBuilderError.unknownLayout(structure: name, field: nil) }
    return layout
  }

  /// A zeroed instance of `name`, ready for fields to be set.
  public func instance(_ name: String) throws -> StructInstance { StructInstance(layout: try layout(name)) }

  /// The few Windows 10 x64 (build 19041) structures the base scenario writes, with offsets and widths
  /// from the public ntkrnlmp.pdb (Volatility 3 ISF 3177D31000BA7590DED335936C93E374-1, `_KUSER_SHARED_DATA`).
  public static let windows10x64 = LayoutTable([
    StructLayout(
      name: "_KUSER_SHARED_DATA", size: 0x720,
      fields: [
        "TickCountMultiplier": .init(offset: 0x004, size: 4),
        "NtBuildNumber": .init(offset: 0x260, size: 4),
        "NtProductType": .init(offset: 0x264, size: 4),
        "ProductTypeIsValid": .init(offset: 0x268, size: 1),
        "NtMajorVersion": .init(offset: 0x26C, size: 4),
        "NtMinorVersion": .init(offset: 0x270, size: 4),
        "KdDebuggerEnabled": .init(offset: 0x2D4, size: 1),
        "NumberOfPhysicalPages": .init(offset: 0x2E8, size: 4),
      ])
  ])
}

/// The bytes of one struct being filled in by field name.
public struct StructInstance: Sendable, Hashable {
  public let layout: StructLayout
  /// The struct's bytes (`layout.size` long, longer if a field was written past it).
  public private(set) var bytes: ByteBuffer

  public init(layout: StructLayout) {
    self.layout = layout
    bytes = ByteBuffer(count: layout.size)
  }

  /// Sets an integer field; `width` overrides the layout's width (needed when it is unknown).
  public mutating func set(_ field: String, _ value: UInt64, width: Int? = nil) throws {
    let info = try checkedField(field)
    let size = width ?? info.size
    switch size {
    case 1:
      guard let v = UInt8(exactly: value) else {
        throw ImageBuilderError.valueTooLarge(what: field, value: value, limit: 0xFF)
      }
      bytes.put(v, at: info.offset)
    case 2:
      guard let v = UInt16(exactly: value) else {
        throw ImageBuilderError.valueTooLarge(what: field, value: value, limit: 0xFFFF)
      }
      bytes.put(v, at: info.offset)
    case 4:
      guard let v = UInt32(exactly: value) else {
        throw ImageBuilderError.valueTooLarge(what: field, value: value, limit: 0xFFFF_FFFF)
      }
      bytes.put(v, at: info.offset)
    case 8:
      bytes.put(value, at: info.offset)
    default:
      throw ImageBuilderError.invalid("field \(layout.name).\(field) has width \(size); give 1, 2, 4 or 8")
    }
  }

  /// Sets raw bytes at a field (strings, GUIDs, embedded structs).
  public mutating func set(_ field: String, bytes raw: [UInt8]) throws {
    bytes.put(raw, at: try checkedField(field).offset)
  }

  /// The field, refusing offsets outside 0 ..< 1 MiB (a layout-table mistake, not a struct).
  private func checkedField(_ field: String) throws -> StructLayout.Field {
    let info = try layout.field(field)
    guard info.offset >= 0, info.offset < 0x10_0000 else {
      throw ImageBuilderError.invalid("field \(layout.name).\(field) has offset \(info.offset)")
    }
    return info
  }

  /// Embeds another instance at a field (e.g. a LIST_ENTRY or UNICODE_STRING inside a struct).
  public mutating func set(_ field: String, _ inner: StructInstance) throws {
    try set(field, bytes: inner.bytes.bytes)
  }
}
