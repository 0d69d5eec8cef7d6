// User-mode KernelCallbackTable: win32k's KeUserModeCallback(ApiNumber, …) ends in ntdll's
// KiUserCallbackDispatcher calling PEB->KernelCallbackTable[ApiNumber], normally user32!apfnDispatch.
// This reads each process's table and compares it with the expected one.

import AddressSpace
import BinaryReading
import WindowsKernel

/// The table every GUI process should use on this build.
public struct ExpectedCallbackTable: Sendable {
  /// Address of user32!apfnDispatch (same in every process of a boot: user32 is mapped at one base).
  public var address: UInt64
  /// The expected routine of each slot.
  public var slots: [UInt64]
  /// `__fnXXX` name of each slot index, when user32's PDB was found.
  public var names: [Int: String]
  /// `pdb` (user32's PDB through the symbol path) or `majority` (the value most GUI processes share).
  public var source: String

  public init(address: UInt64, slots: [UInt64], names: [Int: String], source: String) {
    self.address = address
    self.slots = slots
    self.names = names
    self.source = source
  }
}

/// One slot of a process's table.
public struct CallbackTableSlot: Sendable {
  public var index: Int
  public var routine: UInt64
  public var name: String?
  /// `user32.dll+0x19c0`, or nil outside every module of the process.
  public var module: String?
  public var flags: [String]
}

/// The check of one process.
public struct ProcessCallbackTable: Sendable {
  public var process: WindowsKernel.Process
  /// PEB.KernelCallbackTable (0 when the process has none: not a GUI process).
  public var table: UInt64
  /// The WOW64 (32-bit) PEB's table, when the process is WOW64.
  public var wow64: Bool
  public var user32: UserModule?
  public var expected: UInt64?
  public var slots: [CallbackTableSlot]
  public var flags: [String]
  public var warnings: [String]
}
