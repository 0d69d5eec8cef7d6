// LiME images: the chain of range headers.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLiME(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  probeImage(fuzzBytes(data, size), magic: [0x45, 0x4D, 0x69, 0x4C])
  return 0
}
