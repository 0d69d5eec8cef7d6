// With export code (WindowsImageConfiguration.exportCode), the demo also plants what ObGetObjectType
// reads: ObTypeIndexTable with the first object types of a Windows 10 boot at their indexes (2
// "Type" … 8 "Thread", the demo's Process and Thread types among them), each type object behind an
// OBJECT_HEADER whose TypeIndex names "Type" (2) — from Windows 10 on encoded with ObHeaderCookie
// and the second byte of the header's address (as the public write-ups of the TypeIndex encoding
// describe it). x64 _OBJECT_HEADER (public PDBs, Windows 7 to 11): TypeIndex +0x18, Body +0x30.

extension DemoScenario {
  /// The x64 _OBJECT_HEADER members the table's type objects need.
  static let objectHeaderTypeIndex: UInt64 = 0x18
  static let objectHeaderBody: UInt64 = 0x30

  /// Object types at slots 2… of ObTypeIndexTable, in a Windows 10 boot's order.
  static let tableTypes = ["Type", "Directory", "SymbolicLink", "Token", "Job", "Process", "Thread"]

  /// Allocates an OBJECT_TYPE behind an object header of type "Type"; returns the body's address.
  static func allocateTypeObject(_ builder: WindowsImageBuilder, _ type: StructInstance, cookie: UInt8?) throws
    -> UInt64
  {
    let header = try builder.allocateKernelMemory(Int(objectHeaderBody) + type.bytes.count)
    let body = header + objectHeaderBody
    var typeIndex: UInt8 = 2
    if let cookie { typeIndex ^= cookie ^ UInt8(truncatingIfNeeded: header >> 8) }
    try builder.writeLE(typeIndex, at: header + objectHeaderTypeIndex)
    try builder.write(type, at: body)
    return body
  }

  /// The cookie byte (from Windows 10 on, when the build has ObHeaderCookie), written to its variable.
  static func plantHeaderCookie(_ builder: WindowsImageBuilder, random: inout SeededGenerator) throws -> UInt8? {
    guard builder.truth.buildNumber >= 10240, builder.hasSymbol("ObHeaderCookie") else { return nil }
    let cookie = UInt8(truncatingIfNeeded: random.next() | 1)
    try builder.writeLE(cookie, at: try builder.symbolAddress("ObHeaderCookie"))
    return cookie
  }

  /// ObTypeIndexTable: slots 0 and 1 null, then `tableTypes` (`existing` supplies types already
  /// planted by name), then null.
  static func plantTypeIndexTable(
    _ builder: WindowsImageBuilder, existing: [String: UInt64], cookie: UInt8?
  ) throws {
    guard builder.hasSymbol("ObTypeIndexTable") else { return }
    let table = try builder.symbolAddress("ObTypeIndexTable")
    for (i, name) in tableTypes.enumerated() {
      let slot = UInt64(i + 2)
      let address: UInt64
      if let known = existing[name] {
        address = known
      } else {
        var type = try builder.instance("_OBJECT_TYPE")
        try type.set("Name", try builder.unicodeString(name))
        try type.set("Index", slot)
        let body = try allocateTypeObject(builder, type, cookie: cookie)
        try builder.linkList(head: body + UInt64(try type.layout.field("TypeList").offset), entries: [])
        try builder.linkList(head: body + UInt64(try type.layout.field("CallbackList").offset), entries: [])
        address = body
      }
      try builder.writeLE(address, at: table + slot * 8)
    }
  }
}
