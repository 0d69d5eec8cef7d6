// The on-disk layout of CallScope's bundled profiles (`profiles.bin`), a format of this project.
// All integers little-endian.
//
//   header   magic "CSPROF\0\u{1}" (8) · version u32 = 1 · then five (count u32, offset u32) pairs for
//            strings, types, layouts, symbol names, builds · total file size u32
//   strings  count × (length u16, UTF-8 bytes)
//   types    count × (kind u8, 3 × pad, a u32, b u32); a child type index is always lower than its
//            parent's (kind: 0 base(name a, size b) · 1 pointer(to a, size b) · 2 array(of a, count b)
//            · 3 struct(name a) · 4 enum(name a, size b) · 5 function · 6 unknown(text a))
//   layouts  count × u32 offsets, then records: name u32 · kind u32 (string) · size u32 · field count u32
//            · fields × (name u32, offset u32, type u32, bit position u8 (0xFF: none), bit length u8, pad u16)
//   symbols  count × u32 string index (the symbol catalog, in order)
//   builds   count × (pdb u32, guid u32, age u32, version u32 (0xFFFF_FFFF: none), machine u32,
//            layout count u32, symbol count × u32 RVA (0xFFFF_FFFF: absent), layout count × u32 layout index)
//
// Identical struct layouts are stored once and shared by every build that has them.

/// Constants of the bundled-profile file.
enum BundleFormat {
  static let magic: [UInt8] = Array("CSPROF".utf8) + [0, 1]
  static let version: UInt32 = 1
  static let headerSize = 8 + 4 + 5 * 8 + 4
  static let none: UInt32 = 0xFFFF_FFFF
  static let typeRecordSize = 12
  static let fieldRecordSize = 16
  /// The resource's file name inside Sources/Symbols/Resources.
  static let resourceName = "profiles.bin"

  enum TypeKind: UInt8 {
    case base = 0, pointer, array, structure, enumeration, function, unknown
  }
}
