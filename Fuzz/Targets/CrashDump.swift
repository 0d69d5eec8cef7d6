// Windows crash dumps: the 32/64-bit header, full-dump run lists, summary/bitmap (SDMP, FDMP) and RDMP page maps.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCrashDump(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  probeImage(fuzzBytes(data, size), magic: Array("PAGE".utf8))
  return 0
}
