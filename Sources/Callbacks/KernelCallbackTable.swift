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
  /// The names of each slot index: every public symbol of user32.pdb at the slot's routine, or the
  /// one name of the bundled table (`nameSource`).
  public var names: [Int: [String]]
  /// `pdb` (user32's PDB through the symbol path) or `majority` (the value most GUI processes share).
  public var source: String
  /// Where `names` come from: `pdb`, `bundled-names` (BundledCallbackTableNames), or nil (no names).
  public var nameSource: String?
  /// The bundled table used or compared with (`win10-19041`), when one covers the build.
  public var bundledTable: String?

  public init(
    address: UInt64, slots: [UInt64], names: [Int: [String]], source: String, nameSource: String? = nil,
    bundledTable: String? = nil
  ) {
    self.address = address
    self.slots = slots
    self.names = names
    self.source = source
    self.nameSource = nameSource ?? (names.isEmpty ? nil : source)
    self.bundledTable = bundledTable
  }
}

/// One slot of a process's table.
public struct CallbackTableSlot: Sendable {
  public var index: Int
  public var routine: UInt64
  /// The expected table's names of this index (see `ExpectedCallbackTable.names`); empty when unknown.
  public var names: [String]
  /// The first of `names`.
  public var name: String? { names.first }
  /// `user32.dll+0x19c0`, or nil outside every module of the process.
  public var module: String?
  public var flags: [String]

  public init(index: Int, routine: UInt64, names: [String], module: String?, flags: [String]) {
    self.index = index
    self.routine = routine
    self.names = names
    self.module = module
    self.flags = flags
  }
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

  public init(
    process: WindowsKernel.Process, table: UInt64, wow64: Bool, user32: UserModule?, expected: UInt64?,
    slots: [CallbackTableSlot], flags: [String], warnings: [String]
  ) {
    self.process = process
    self.table = table
    self.wow64 = wow64
    self.user32 = user32
    self.expected = expected
    self.slots = slots
    self.flags = flags
    self.warnings = warnings
  }
}
