// The ntoskrnl image as found in kernel space: where it is, how big, and which PDB describes it.

import BinaryReading
import Symbols

/// ntoskrnl.exe as mapped in a memory image.
public struct KernelImage: Sendable, Equatable {
  /// Virtual base address (the MZ header).
  public var base: UInt64
  /// SizeOfImage from the optional header.
  public var size: UInt64
  /// PDB named by the CodeView (RSDS) record.
  public var pdb: PDBIdentity
  /// The PDB path exactly as the RSDS record holds it.
  public var pdbPath: String
  /// File version from the version resource (`10.0.19041.1415`), when that page is present.
  public var fileVersion: String?
  /// COFF machine (0x8664 x64, 0x14c x86).
  public var machine: UInt16
  /// COFF TimeDateStamp (with SizeOfImage, the key of the Microsoft symbol server's binary store).
  public var timeDateStamp: UInt32

  public init(
    base: UInt64, size: UInt64, pdb: PDBIdentity, pdbPath: String, fileVersion: String?, machine: UInt16,
    timeDateStamp: UInt32
  ) {
    self.base = base
    self.size = size
    self.pdb = pdb
    self.pdbPath = pdbPath
    self.fileVersion = fileVersion
    self.machine = machine
    self.timeDateStamp = timeDateStamp
  }

  /// Whether `address` lies in the image (half-open range).
  public func contains(_ address: UInt64) -> Bool { address >= base && address - base < size }
}
