// The facts of one real kernel build that a scenario mirrors: the image's SizeOfImage and the RVAs
// of its symbols (taken by the caller from that build's PDB, ISF or bundled profile — ImageBuilder
// itself reads no symbol files).

/// SizeOfImage and symbol RVAs of a real ntoskrnl build.
public struct KernelBuildFacts: Sendable, Hashable {
  /// The kernel's SizeOfImage (e.g. 0xe04000 for ntoskrnl 10.0.19041.1415).
  public var sizeOfImage: UInt64
  /// Symbol name → RVA.
  public var symbols: [String: UInt64]

  public init(sizeOfImage: UInt64, symbols: [String: UInt64]) {
    self.sizeOfImage = sizeOfImage
    self.symbols = symbols
  }

  /// The RVA of `name`, or an error naming it.
  public func rva(_ name: String) throws -> UInt64 {
    guard let rva = symbols[name] else {
      throw ImageBuilderError.invalid("symbol \(name) is not in the kernel build's table")
    }
    guard rva < sizeOfImage else {
      throw ImageBuilderError.invalid(
        "symbol \(name) at RVA \(hexText(rva)) lies past SizeOfImage \(hexText(sizeOfImage))")
    }
    return rva
  }
}
