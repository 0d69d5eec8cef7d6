// Layouts of undocumented kernel structures, declared field by field with C types as the public
// headers give them and laid out with natural alignment for the kernel's pointer size — so one
// declaration serves x86 and x64, and no offset is a bare constant in code.

import WindowsKernel

/// A C member type, enough to compute size and alignment.
public enum CType: Sendable, Hashable {
  case u8, u16, u32, u64
  /// A pointer (and pointer-sized integers: ULONG_PTR, HANDLE, KSPIN_LOCK, EX_PUSH_LOCK, EX_RUNDOWN_REF).
  case pointer
  /// LIST_ENTRY: two pointers.
  case listEntry
  /// UNICODE_STRING: USHORT Length, USHORT MaximumLength, PWSTR Buffer.
  case unicodeString
  /// GUID: 16 bytes, 4-byte aligned.
  case guid
  /// LARGE_INTEGER: 8 bytes, 8-byte aligned on both architectures.
  case largeInteger
  /// Raw bytes with an alignment.
  case bytes(count: Int, alignment: Int)
  /// The start of a nested struct that contains pointers: no bytes, pointer alignment.
  case nestedStruct

  func size(pointerSize p: Int) -> Int {
    switch self {
    case .u8: return 1
    case .u16: return 2
    case .u32: return 4
    case .u64, .largeInteger: return 8
    case .pointer: return p
    case .listEntry: return 2 * p
    case .unicodeString: return p == 8 ? 16 : 8
    case .guid: return 16
    case .bytes(let count, _): return count
    case .nestedStruct: return 0
    }
  }

  func alignment(pointerSize p: Int) -> Int {
    switch self {
    case .u8: return 1
    case .u16: return 2
    case .u32, .guid: return 4
    case .u64, .largeInteger: return 8
    case .pointer, .listEntry, .unicodeString, .nestedStruct: return p
    case .bytes(_, let alignment): return alignment
    }
  }
}

/// A struct declared as an ordered list of members, laid out for a pointer size.
public struct CStructLayout: Sendable {
  public let name: String
  public let pointerSize: Int
  public let offsets: [String: Int]
  public let size: Int

  /// Lays out `members` in order with natural alignment (MSVC default packing).
  public init(_ name: String, pointerSize: Int, _ members: [(String, CType)]) {
    var offset = 0
    var maxAlign = 1
    var offsets: [String: Int] = [:]
    for (member, type) in members {
      let align = type.alignment(pointerSize: pointerSize)
      maxAlign = max(maxAlign, align)
      offset = (offset + align - 1) / align * align
      offsets[member] = offset
      offset += type.size(pointerSize: pointerSize)
    }
    self.name = name
    self.pointerSize = pointerSize
    self.offsets = offsets
    self.size = (offset + maxAlign - 1) / maxAlign * maxAlign
  }

  /// Offset of a member. A member the declaration lacks is an error naming `struct.member` — never
  /// offset 0, which would silently read the struct's first field instead.
  public subscript(_ member: String) -> UInt64 {
    get throws(WindowsKernelError) {
      guard let offset = offsets[member] else { throw .undeclaredMember(structName: name, member: member) }
      return UInt64(offset)
    }
  }
}
