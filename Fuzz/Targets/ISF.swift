// ISF JSON (Volatility 3 symbol tables): the streaming JSON reader and the ISF document parser,
// then every struct, field, enum and symbol the document declares.

import Symbols

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzISF(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let bytes = fuzzBytes(data, size)
  guard let profile = try? ISFProfile(json: bytes, name: "fuzz.json") else { return 0 }
  for name in profile.structNames.prefix(64) {
    _ = profile.structSize(name)
    _ = profile.structKind(name)
    _ = profile.fields(of: name)
  }
  for name in profile.enumNames.prefix(64) { _ = profile.enumeration(name) }
  for name in profile.symbolNames.prefix(64) { _ = profile.symbol(name) }
  _ = profile.baseTypeSize("pointer")
  return 0
}
