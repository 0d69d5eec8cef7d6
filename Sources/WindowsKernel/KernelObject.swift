// An object of the object manager: its body address, decoded header, type and name.

/// One named (or unnamed) kernel object.
public struct KernelObject: Sendable, Hashable {
  /// Address of the object body (what pointers to the object hold).
  public var address: UInt64
  /// Address of its OBJECT_HEADER.
  public var header: UInt64
  /// The decoded type index.
  public var typeIndex: UInt8
  /// Type name from the type object (`Directory`, `Callback`, …), nil if unreadable.
  public var typeName: String?
  /// Name from OBJECT_HEADER_NAME_INFO, nil for unnamed objects.
  public var name: String?

  public init(address: UInt64, header: UInt64, typeIndex: UInt8, typeName: String?, name: String?) {
    self.address = address
    self.header = header
    self.typeIndex = typeIndex
    self.typeName = typeName
    self.name = name
  }
}
