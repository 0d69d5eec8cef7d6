// CodeWalker over hostile code bytes: the input is the code at a kernel address (x64 or x86 by
// its first byte), walked from an entry the input names, following calls inside it.

import Disassembly

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCodeWalker(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let bytes = fuzzBytes(data, size)
  let base: UInt64 = 0xFFFF_F800_0000_0000
  let end = base + UInt64(bytes.count)
  let architecture: Architecture = le(bytes, 0, UInt8.self) & 1 == 0 ? .x64 : .x86
  let readPage: (UInt64) -> [UInt8]? = { va in
    guard va >= base, va < end else { return nil }
    let start = Int(va - base)
    var page = Array(bytes[start..<min(start + 0x1000, bytes.count)])
    page += [UInt8](repeating: 0xCC, count: 0x1000 - page.count)
    return page
  }
  guard
    let walker = try? CodeWalker(
      architecture: architecture, readPage: readPage, mayEnter: { $0 >= base && $0 < end })
  else { return 0 }
  let entry = base + UInt64(le(bytes, 1, UInt16.self)) % UInt64(max(bytes.count, 1))
  _ = walker.walk(from: entry)
  _ = walker.walk(from: base)
  return 0
}
