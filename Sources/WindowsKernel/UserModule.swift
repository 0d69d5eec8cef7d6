// A DLL or EXE mapped in a process, as its PEB loader list or VAD tree records it.

/// A user-mode module of one process.
public struct UserModule: Sendable, Hashable {
  public var name: String
  public var path: String
  public var base: UInt64
  public var size: UInt64
  /// `ldr` (PEB.Ldr load-order list), `ldr32` (the WOW64 PEB's list) or `vad` (an image-backed VAD).
  public var source: String

  public init(name: String, path: String, base: UInt64, size: UInt64, source: String) {
    self.name = name
    self.path = path
    self.base = base
    self.size = size
    self.source = source
  }

  /// Half-open containment.
  public func contains(_ address: UInt64) -> Bool { address >= base && address - base < size }
}
