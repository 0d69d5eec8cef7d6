// The VAD tree of a process: EPROCESS.VadRoot (RTL_AVL_TREE) of MMVAD_SHORT nodes, each giving a
// virtual range, its protection and whether it is private; image-backed VADs name their file
// (MMVAD.Subsection → SUBSECTION.ControlArea → CONTROL_AREA.FilePointer → FILE_OBJECT.FileName).
// All members come from the public PDB through the profile.

import AddressSpace
import BinaryReading
import Symbols

/// One virtual address descriptor.
public struct Vad: Sendable, Hashable {
  /// First byte of the range (VadTree.read only returns VADs with start ≤ end).
  public var start: UInt64
  /// Last byte of the range (inclusive).
  public var end: UInt64
  /// MMVAD_FLAGS.Protection (an MM_PROTECTION index, e.g. 4 = PAGE_READWRITE, 6 = PAGE_EXECUTE_READWRITE).
  public var protection: Int
  public var privateMemory: Bool
  /// File name of an image- or file-backed VAD.
  public var fileName: String?
  /// Address of the MMVAD.
  public var node: UInt64

  /// PAGE_* name of the protection index (the kernel's MmProtectToValue order).
  public var protectionName: String {
    let names = [
      "PAGE_NOACCESS", "PAGE_READONLY", "PAGE_EXECUTE", "PAGE_EXECUTE_READ", "PAGE_READWRITE", "PAGE_WRITECOPY",
      "PAGE_EXECUTE_READWRITE", "PAGE_EXECUTE_WRITECOPY",
    ]
    return names[protection & 7]
  }

  /// Whether the protection allows writing and executing together.
  public var isWritableExecutable: Bool { protection & 7 == 6 || protection & 7 == 7 }
  public func contains(_ address: UInt64) -> Bool { address >= start && address <= end }
}

/// Reads a process's VAD tree.
public enum VadTree {
  /// Every VAD of `process`, in address order (bounded, cycle-safe, iterative).
  public static func read(_ process: Process, kernel: Kernel, bound: Int = 65_536) throws(WindowsKernelError) -> (
    vads: [Vad], warnings: [String]
  ) {
    let root = try kernel.readPointer(process.eprocess &+ (try kernel.offset("_EPROCESS", "VadRoot")))
    let left = try kernel.offset("_RTL_BALANCED_NODE", "Left")
    let right = try kernel.offset("_RTL_BALANCED_NODE", "Right")
    let startVpn = try kernel.offset("_MMVAD_SHORT", "StartingVpn")
    let endVpn = try kernel.offset("_MMVAD_SHORT", "EndingVpn")
    // The High bytes exist only where VPNs exceed 32 bits (x64); their absence is not an error.
    let startHigh = try? kernel.offset("_MMVAD_SHORT", "StartingVpnHigh")
    let endHigh = try? kernel.offset("_MMVAD_SHORT", "EndingVpnHigh")
    let flagsOffset = try kernel.offset("_MMVAD_SHORT", "u")
    let protection = kernel.profile.field("_MMVAD_FLAGS", "Protection")
    let privateBit = kernel.profile.field("_MMVAD_FLAGS", "PrivateMemory")
    var vads: [Vad] = []
    var warnings: [String] = []
    // Without these bit fields every VAD would read as protection 0 / not private: say so once.
    for (member, field) in [("Protection", protection), ("PrivateMemory", privateBit)] where bits(0, field) == nil {
      warnings.append(
        "\(WindowsKernelError.missingField(structName: "_MMVAD_FLAGS", field: member)) (or is not a bit field); "
          + "\(member == "Protection" ? "protections read as 0" : "no VAD reads as private")")
    }
    var stack: [UInt64] = root == 0 ? [] : [root]
    var seen: Set<UInt64> = []
    while let node = stack.popLast() {
      guard seen.insert(node).inserted else {
        warnings.append("VAD tree loops at \(Hex.format(node))")
        continue
      }
      guard seen.count <= bound else {
        warnings.append("VAD tree larger than \(bound) nodes; stopped")
        break
      }
      do {
        let low = try kernel.readUnsigned(node &+ startVpn, width: 4)
        let high = try kernel.readUnsigned(node &+ endVpn, width: 4)
        let lowHigh =
          try startHigh.map { offset throws(WindowsKernelError) in
            try kernel.readUnsigned(node &+ offset, width: 1)
          } ?? 0
        let highHigh =
          try endHigh.map { offset throws(WindowsKernelError) in
            try kernel.readUnsigned(node &+ offset, width: 1)
          } ?? 0
        let flags = try kernel.readUnsigned(node &+ flagsOffset, width: 4)
        // VPNs are at most 32 + 8 bits wide, so neither shift can lose bits.
        let start = (low | lowHigh << 32) << 12
        let end = ((high | highHigh << 32) << 12) | 0xfff
        if end < start {
          warnings.append(
            "VAD at \(Hex.format(node)): EndingVpn \(Hex.format(end >> 12)) is below StartingVpn "
              + "\(Hex.format(start >> 12)); range skipped")
        } else {
          vads.append(
            Vad(
              start: start, end: end, protection: Int(bits(flags, protection) ?? 0),
              privateMemory: (bits(flags, privateBit) ?? 0) != 0, fileName: fileName(node, kernel: kernel),
              node: node))
        }
        for child in [try kernel.readPointer(node &+ left), try kernel.readPointer(node &+ right)] where child != 0 {
          stack.append(child)
        }
      } catch {
        warnings.append("VAD at \(Hex.format(node)): \(error)")
      }
    }
    return (vads.sorted { $0.start < $1.start }, warnings)
  }

  private static func bits(_ word: UInt64, _ field: FieldInfo?) -> UInt64? {
    guard let field, let position = field.bitPosition, let length = field.bitLength, position >= 0, length > 0,
      position + length <= 32
    else { return nil }
    return (word >> UInt64(position)) & ((1 << UInt64(length)) - 1)
  }

  /// The backing file's name for a mapped VAD, when the chain of pointers is readable.
  private static func fileName(_ node: UInt64, kernel: Kernel) -> String? {
    guard let subsection = try? kernel.offset("_MMVAD", "Subsection"),
      let controlArea = try? kernel.offset("_SUBSECTION", "ControlArea"),
      let filePointer = try? kernel.offset("_CONTROL_AREA", "FilePointer"),
      let fileName = try? kernel.offset("_FILE_OBJECT", "FileName"),
      let sub = try? kernel.readPointer(node &+ subsection), sub != 0, kernel.isKernelAddress(sub),
      let ca = try? kernel.readPointer(sub &+ controlArea), ca != 0,
      let fileRef = try? kernel.readPointer(ca &+ filePointer), fileRef != 0
    else { return nil }
    let file = fileRef & ~(kernel.pointerSize == 8 ? 0xf : 0x7)  // EX_FAST_REF
    return try? kernel.readUnicodeString(file &+ fileName)
  }
}
