// Simple (built-in) type indices below 0x1000: bits 0-7 the kind, bits 8-10 the pointer mode.
// Values: Microsoft cvinfo.h (T_VOID, T_CHAR … T_UINT8, T_REAL32 …; CV_TM_DIRECT, CV_TM_NPTR32,
// CV_TM_NPTR64 …) and LLVM "CodeView Type Records" (TypeIndex: simple types).

/// A built-in type: its name and size, and the pointer size when the index is a pointer to it.
struct SimpleType: Sendable, Hashable {
  let name: String
  let size: Int
  /// Size of the pointer when the mode is not direct (nil: the base type itself).
  let pointerSize: Int?

  init?(index: UInt32) {
    guard index < 0x1000 else { return nil }
    let kind = index & 0xFF
    let mode = (index >> 8) & 0x7
    guard let (name, size) = Self.kinds[kind] else { return nil }
    self.name = name
    self.size = size
    switch mode {
    case 0: pointerSize = nil
    case 1: pointerSize = 2  // near 16
    case 2, 3, 4: pointerSize = 4  // far 16:16, huge 16:16, near 32
    case 5: pointerSize = 6  // far 16:32
    case 6: pointerSize = 8  // near 64
    default: pointerSize = 16  // near 128
    }
  }

  /// Kind → (name, size); names as C spells them (MSVC's spelling for the 64-bit ones).
  static let kinds: [UInt32: (String, Int)] = [
    0x00: ("<no type>", 0), 0x03: ("void", 0), 0x08: ("HRESULT", 4),
    0x10: ("signed char", 1), 0x20: ("unsigned char", 1), 0x70: ("char", 1),
    0x71: ("wchar_t", 2), 0x7A: ("char16_t", 2), 0x7B: ("char32_t", 4), 0x7C: ("char8_t", 1),
    0x68: ("__int8", 1), 0x69: ("unsigned __int8", 1),
    0x11: ("short", 2), 0x21: ("unsigned short", 2), 0x72: ("__int16", 2), 0x73: ("unsigned __int16", 2),
    0x12: ("long", 4), 0x22: ("unsigned long", 4), 0x74: ("int", 4), 0x75: ("unsigned int", 4),
    0x13: ("__int64", 8), 0x23: ("unsigned __int64", 8), 0x76: ("__int64", 8), 0x77: ("unsigned __int64", 8),
    0x14: ("__int128", 16), 0x24: ("unsigned __int128", 16), 0x78: ("__int128", 16),
    0x79: ("unsigned __int128", 16),
    0x46: ("__half", 2), 0x40: ("float", 4), 0x45: ("float", 4), 0x44: ("__real48", 6), 0x41: ("double", 8),
    0x42: ("long double", 10), 0x43: ("__float128", 16),
    0x50: ("_Complex float", 8), 0x51: ("_Complex double", 16), 0x52: ("_Complex long double", 20),
    0x53: ("_Complex __float128", 32),
    0x30: ("bool", 1), 0x31: ("__bool16", 2), 0x32: ("__bool32", 4), 0x33: ("__bool64", 8),
  ]
}
