// The kernel of one image with its symbol profile: the object every walker of kernel structures
// starts from. Member offsets always come from the profile, never from constants in code.

import AddressSpace
import BinaryReading
import MemoryImage
import Symbols

/// A kernel address space, its ntoskrnl image and the profile describing that build.
public final class Kernel: Sendable {
  public let space: VirtualAddressSpace
  public let image: KernelImage
  public let profile: any KernelProfile

  public init(space: VirtualAddressSpace, image: KernelImage, profile: any KernelProfile) {
    self.space = space
    self.image = image
    self.profile = profile
  }

  /// Pointer size of this kernel (4 or 8).
  public var pointerSize: Int { space.pointerSize }

  /// Virtual address of a kernel symbol (base + RVA).
  public func address(of symbol: String) throws(WindowsKernelError) -> UInt64 {
    guard let info = profile.symbol(symbol) else { throw missing(symbol) }
    return image.base &+ info.rva  // RVAs are below SizeOfImage; wrap is impossible for a kernel base
  }

  /// The error for a symbol the profile does not answer: the locators' reason when they searched.
  public func missing(_ symbol: String) -> WindowsKernelError {
    if let located = profile as? LocatedProfile, let failure = located.failures[symbol] {
      return .notLocated(symbol: symbol, reason: failure.reason)
    }
    return .missingSymbol(symbol)
  }

  /// Whether the profile knows a symbol.
  public func hasSymbol(_ symbol: String) -> Bool { profile.symbol(symbol) != nil }

  /// Offset of `field` in `structName`.
  public func offset(_ structName: String, _ field: String) throws(WindowsKernelError) -> UInt64 {
    guard let info = profile.field(structName, field), info.offset >= 0 else {
      throw .missingField(structName: structName, field: field)
    }
    return UInt64(info.offset)
  }

  /// Size of a struct.
  public func size(of structName: String) throws(WindowsKernelError) -> UInt64 {
    guard let size = profile.structSize(structName), size >= 0 else {
      throw .missingField(structName: structName, field: "(size)")
    }
    return UInt64(size)
  }

  /// Reads a pointer-sized value.
  public func readPointer(_ va: UInt64) throws(WindowsKernelError) -> UInt64 {
    do { return try space.readPointer(va) } catch { throw .translation(error) }
  }

  /// Reads the pointer stored in the kernel variable `symbol`.
  public func readPointerVariable(_ symbol: String) throws(WindowsKernelError) -> UInt64 {
    try readPointer(try address(of: symbol))
  }

  /// Reads a UNICODE_STRING structure at `va`; an odd Length or one above MaximumLength is rejected.
  public func readUnicodeString(_ va: UInt64) throws(WindowsKernelError) -> String {
    try Self.readUnicodeString(in: space, at: va)
  }

  /// Reads the UNICODE_STRING at `va` of `space` (a kernel or process address space), after checking
  /// its header: ntdef.h's UNICODE_STRING {USHORT Length; USHORT MaximumLength; PWSTR Buffer} counts
  /// bytes of UTF-16, so Length is even and at most MaximumLength in every string the system made.
  public static func readUnicodeString(in space: VirtualAddressSpace, at va: UInt64) throws(WindowsKernelError)
    -> String
  {
    do {
      let length = try space.readUInt16(va)
      let (maximumField, overflow) = va.addingReportingOverflow(2)
      guard !overflow else { throw WindowsKernelError.translation(.nonCanonical(va: va)) }
      let maximum = try space.readUInt16(maximumField)
      guard length % 2 == 0, length <= maximum else {
        throw WindowsKernelError.implausible(
          address: va, structure: "_UNICODE_STRING",
          detail: "Length \(Hex.format(UInt64(length))), MaximumLength \(Hex.format(UInt64(maximum))); "
            + "expected an even Length no larger than MaximumLength")
      }
      return try space.readUnicodeString(at: va)
    } catch let error as WindowsKernelError {
      throw error
    } catch let error as TranslationError {
      throw .translation(error)
    } catch {
      throw .implausible(address: va, structure: "_UNICODE_STRING", detail: "\(error)")
    }
  }

  /// Reads bytes.
  public func read(_ va: UInt64, count: Int) throws(WindowsKernelError) -> [UInt8] {
    do { return try space.read(va, count: count) } catch { throw .translation(error) }
  }

  /// Reads an unsigned integer of the width of a field (1, 2, 4 or 8 bytes).
  public func readUnsigned(_ va: UInt64, width: Int) throws(WindowsKernelError) -> UInt64 {
    do {
      switch width {
      case 1: return UInt64(try space.readUInt8(va))
      case 2: return UInt64(try space.readUInt16(va))
      case 4: return UInt64(try space.readUInt32(va))
      default: return try space.readUInt64(va)
      }
    } catch { throw .translation(error) }
  }

  /// Whether `va` is in the kernel half of the address space.
  public func isKernelAddress(_ va: UInt64) -> Bool { KernelLocator.kernelRange(space.mode).contains(va) }
}
