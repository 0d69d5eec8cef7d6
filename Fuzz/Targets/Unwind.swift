// x64 unwind data: UNWIND_INFO parsed from the input, then one virtual unwind step at every offset of
// its prolog over a stack read from the input (chained entries parsed from later bytes).

import PortableExecutable

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzUnwind(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let bytes = fuzzBytes(data, size)
  guard let info = try? UnwindInfo.parse(bytes, rva: 0x1000, source: "fuzz.xdata") else { return 0 }
  // The stack: 8-byte words of the input from its start, at rsp = 0x10000.
  let read: (UInt64) -> UInt64? = { va in
    guard va >= 0x10000, va - 0x10000 <= UInt64(bytes.count), let at = Int(exactly: va - 0x10000) else { return nil }
    return at + 8 <= bytes.count ? le(bytes, at, UInt64.self) : nil
  }
  let chain: (UInt32) throws(PEError) -> UnwindInfo = { rva throws(PEError) in
    let at = Int(rva % UInt32(max(bytes.count, 1)))
    return try UnwindInfo.parse(Array(bytes[at...]), rva: rva, source: "fuzz.xdata")
  }
  let context = UnwindContext(rip: 0x1800_0100, rsp: 0x10000, registers: [5: 0x10040])
  for offset in [0, 1, 4, 0x10, 0xff] as [UInt32] {
    _ = try? info.virtualUnwind(context, offset: offset, read: read, chain: chain)
  }
  return 0
}
