// Reads of the detail members of one registration record. A member whose offset is unknown or
// whose value cannot be read yields nil (shown as null) and a warning naming struct.member, the
// address and the reason — never a silent 0 that would look like a real value.

import BinaryReading
import WindowsKernel

/// The detail reads of one record at `base`; `warnings` collects every member that failed.
public struct FieldReads {
  let context: CallbackContext
  /// The struct's name in messages (`_KBUGCHECK_CALLBACK_RECORD`, `CALLBACK_REGISTRATION`).
  public let structName: String
  /// Address of the record.
  public let base: UInt64
  let offset: (String) throws(WindowsKernelError) -> UInt64
  /// One line per member that could not be read.
  public var warnings: [String] = []

  /// Reads of a record laid out by a declared layout.
  public init(_ context: CallbackContext, _ layout: CStructLayout, at base: UInt64) {
    self.context = context
    self.structName = layout.name
    self.base = base
    self.offset = { (member: String) throws(WindowsKernelError) -> UInt64 in try layout[member] }
  }

  /// Reads of a record whose members come from the merged profile (the symbol file when it has the
  /// type, else the declared layout of the same name).
  public init(_ context: CallbackContext, profileStruct: String, at base: UInt64) {
    self.context = context
    self.structName = profileStruct
    self.base = base
    self.offset = { (member: String) throws(WindowsKernelError) -> UInt64 in
      try context.offset(profileStruct, member)
    }
  }

  /// Address of `member` in the record, or nil (and a warning) when its offset is unknown.
  public mutating func address(of member: String) -> UInt64? {
    do { return base &+ (try offset(member)) } catch {
      warnings.append(error.description)
      return nil
    }
  }

  /// The pointer-sized value of `member`, or nil and a warning.
  public mutating func pointer(_ member: String) -> UInt64? {
    let kernel = context.kernel
    return read(member) { va throws(WindowsKernelError) in try kernel.readPointer(va) }
  }

  /// The `width`-byte unsigned value of `member`, or nil and a warning.
  public mutating func unsigned(_ member: String, width: Int) -> UInt64? {
    let kernel = context.kernel
    return read(member) { va throws(WindowsKernelError) in try kernel.readUnsigned(va, width: width) }
  }

  /// The UNICODE_STRING `member`, or nil and a warning.
  public mutating func unicodeString(_ member: String) -> String? {
    let kernel = context.kernel
    return read(member) { va throws(WindowsKernelError) in try kernel.readUnicodeString(va) }
  }

  /// Records `struct.member at VA unreadable: reason` for a value read elsewhere that failed.
  public mutating func unreadable(_ member: String, at va: UInt64, _ error: any Error) {
    unreadable(member, at: va, reason: String(describing: error))
  }

  /// Records `struct.member at VA unreadable: reason`.
  public mutating func unreadable(_ member: String, at va: UInt64, reason: String) {
    warnings.append(
      WindowsKernelError.unreadableField(structName: structName, field: member, address: va, reason: reason)
        .description)
  }

  /// The value of `member` read at `va` (a nested member whose address the caller computed), or nil
  /// and a warning naming it.
  public mutating func value<T>(_ member: String, at va: UInt64, _ body: (UInt64) throws(WindowsKernelError) -> T) -> T?
  {
    do { return try body(va) } catch {
      unreadable(member, at: va, error)
      return nil
    }
  }

  private mutating func read<T>(_ member: String, _ body: (UInt64) throws(WindowsKernelError) -> T) -> T? {
    guard let va = address(of: member) else { return nil }
    do { return try body(va) } catch {
      unreadable(member, at: va, error)
      return nil
    }
  }
}

extension DetailValue {
  /// `.address(value)`, or `.null` when the value could not be read.
  public static func address(orNull value: UInt64?) -> DetailValue { value.map(DetailValue.address) ?? .null }
  /// `.int(value)`, or `.null` when the value could not be read.
  public static func int(orNull value: UInt64?) -> DetailValue { value.map { .int(Int64(bitPattern: $0)) } ?? .null }
  /// `.string(value)`, or `.null`.
  public static func string(orNull value: String?) -> DetailValue { value.map(DetailValue.string) ?? .null }
}
