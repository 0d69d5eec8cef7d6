// PE images: DOS/COFF/optional headers and sections, then the export, debug (CodeView), exception,
// resource and version-information directories, read as a file and as a mapped image.

import BinaryReading
import PortableExecutable

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPE(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let bytes = fuzzBytes(data, size)
  let source = InMemoryByteSource(bytes, name: "fuzz.dll")
  for layout in [PELayout.file, .mapped] {
    guard let image = try? PEImage(source: source, layout: layout) else { continue }
    if let exports = try? image.exports() { _ = exports }
    _ = try? image.debugDirectory()
    _ = try? image.codeView()
    _ = try? image.exceptionDirectory()
    _ = try? image.runtimeFunction(containing: 0x1000)
    _ = try? image.resources(type: 16)
    _ = try? image.versionInfo()
    _ = image.section(containing: 0x1000)
  }
  return 0
}
