// ELF cores (QEMU, VirtualBox): ELF header, program headers (PN_XNUM), PT_LOAD segments, notes.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzELFCore(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  probeImage(fuzzBytes(data, size), magic: [0x7F, 0x45, 0x4C, 0x46])
  return 0
}
