// Errors of the WindowsKernel layer: the kernel could not be found or a structure in it is unreadable.

import AddressSpace
import BinaryReading
import MemoryImage

/// Why the kernel or one of its structures could not be read.
public enum WindowsKernelError: Error, Sendable, CustomStringConvertible {
  /// No directory table base could be determined.
  case noDirectoryTableBase(path: String, detail: String)
  /// No ntoskrnl image was found in the kernel half of the address space.
  case kernelNotFound(path: String, dtb: UInt64, detail: String)
  /// Several ntoskrnl images are mapped and nothing tells which one runs.
  case ambiguousKernel(path: String, candidates: [String])
  /// The image given with `--kernel-base` is not an ntoskrnl PE.
  case notAKernel(address: UInt64, detail: String)
  /// A virtual read failed.
  case translation(TranslationError)
  /// The profile lacks a symbol the kernel model needs.
  case missingSymbol(String)
  /// No symbol file names the variable and the locators could not find it (their reason).
  case notLocated(symbol: String, reason: String)
  /// The profile lacks a struct member the kernel model needs.
  case missingField(structName: String, field: String)
  /// A structure read from the image is implausible.
  case implausible(address: UInt64, structure: String, detail: String)
  /// A member CallScope's declared layout of an undocumented struct does not have (a layout defect).
  case undeclaredMember(structName: String, member: String)
  /// The value of `structName.field` at `address` could not be read.
  case unreadableField(structName: String, field: String, address: UInt64, reason: String)

  public var description: String {
    switch self {
    case .noDirectoryTableBase(let path, let detail):
      return "\(path): no directory table base found (\(detail)); give one with --dtb"
    case .kernelNotFound(let path, let dtb, let detail):
      return "\(path): no ntoskrnl image found in kernel space with DTB \(Hex.format(dtb)) (\(detail)); "
        + "give one with --kernel-base"
    case .ambiguousKernel(let path, let candidates):
      return "\(path): \(candidates.count) plausible ntoskrnl images in kernel space, at "
        + candidates.joined(separator: ", ") + "; nothing tells which one runs: give one with --kernel-base"
    case .notAKernel(let address, let detail):
      return "no ntoskrnl PE at \(Hex.format(address)): \(detail)"
    case .translation(let e): return e.description
    case .missingSymbol(let name): return "symbol \(name) is not in the kernel profile"
    case .notLocated(let name, let reason): return "\(name) not located: \(reason)"
    case .missingField(let s, let f): return "field \(s).\(f) is not in the kernel profile"
    case .implausible(let address, let structure, let detail):
      return "\(structure) at \(Hex.format(address)): \(detail)"
    case .undeclaredMember(let s, let m): return "member \(s).\(m) is not in CallScope's declared layout of \(s)"
    case .unreadableField(let s, let f, let address, let reason):
      return "\(s).\(f) at \(Hex.format(address)) unreadable: \(reason)"
    }
  }
}
