// x64 UNWIND_INFO (Microsoft, "x64 exception handling"): byte 0 Version (low 3 bits) and Flags (high 5),
// byte 1 SizeOfProlog, byte 2 CountOfCodes, byte 3 FrameRegister (low 4) and FrameOffset (high 4, ×16),
// then CountOfCodes 2-byte slots (CodeOffset, UnwindOp low 4 bits, OpInfo high 4), padded to an even
// count; then an exception handler RVA (EHANDLER/UHANDLER) or a chained RUNTIME_FUNCTION (CHAININFO).

import BinaryReading

/// One decoded unwind operation (one to three slots of the code array).
public enum UnwindOperation: Sendable, Equatable {
  /// UWOP_PUSH_NONVOL (0): `push reg`.
  case pushNonvolatile(register: UInt8)
  /// UWOP_ALLOC_LARGE (1): OpInfo 0 is a size/8 in one slot, OpInfo 1 an unscaled size in two.
  case allocateLarge(size: UInt32)
  /// UWOP_ALLOC_SMALL (2): OpInfo × 8 + 8 bytes.
  case allocateSmall(size: UInt32)
  /// UWOP_SET_FPREG (3): the frame register = RSP + FrameOffset × 16.
  case setFramePointer
  /// UWOP_SAVE_NONVOL (4, offset/8 in one slot) and _FAR (5, unscaled in two): `mov [frame+offset], reg`.
  case saveNonvolatile(register: UInt8, offset: UInt32, far: Bool)
  /// UWOP_EPILOG (6, version 2 only): an epilog's location; ignored when unwinding a body.
  case epilog(codeOffset: UInt8, info: UInt8)
  /// UWOP_SAVE_XMM128 (8, offset/16 in one slot) and _FAR (9, unscaled in two).
  case saveXMM128(register: UInt8, offset: UInt32, far: Bool)
  /// UWOP_PUSH_MACHFRAME (10): a hardware frame (with an error code when OpInfo is 1).
  case pushMachineFrame(errorCode: Bool)
}

/// One entry of the code array: where in the prolog it happened and what.
public struct UnwindCode: Sendable, Equatable {
  /// Offset from the function's start of the end of the instruction it describes.
  public let codeOffset: UInt8
  public let operation: UnwindOperation
}

/// A parsed UNWIND_INFO.
public struct UnwindInfo: Sendable, Equatable {
  public static let flagExceptionHandler: UInt8 = 1
  public static let flagTerminationHandler: UInt8 = 2
  public static let flagChainInfo: UInt8 = 4

  public let version: UInt8
  public let flags: UInt8
  public let sizeOfProlog: UInt8
  /// Number of 2-byte slots (not of operations).
  public let countOfCodes: UInt8
  /// 0 when the function has no frame pointer.
  public let frameRegister: UInt8
  /// The scaled frame offset in bytes (FrameOffset × 16).
  public let frameOffset: UInt32
  /// The operations, in array order (reverse of the prolog).
  public let codes: [UnwindCode]
  /// The handler RVA when EHANDLER or UHANDLER is set.
  public let handler: UInt32?
  /// The parent entry when CHAININFO is set.
  public let chained: RuntimeFunction?

  /// Bytes of UNWIND_INFO needed at most: header, 255 codes padded to 256, a 12-byte trailer.
  public static let maximumSize = 4 + 256 * 2 + 12

  /// Parses an UNWIND_INFO from `bytes` (the structure's bytes, possibly followed by anything);
  /// `rva` and `source` are for messages. The fuzzing entry point: any input throws or returns.
  public static func parse(_ bytes: [UInt8], rva: UInt32, source: String) throws(PEError) -> UnwindInfo {
    let b = PEBytes(bytes, origin: UInt64(rva), source: source, structure: "UNWIND_INFO")
    let first = try b.u8(0)
    let version = first & 7
    let flags = first >> 3
    guard version == 1 || version == 2 else { throw b.corrupt(0, "version \(version) (1 or 2 expected)") }
    let prolog = try b.u8(1)
    let count = try b.u8(2)
    let frame = try b.u8(3)
    var codes: [UnwindCode] = []
    var slot = 0
    let slots = Int(count)
    func slotValue(_ index: Int) throws(PEError) -> UInt16 {
      guard index < slots else { throw b.corrupt(4 + 2 * index, "unwind code needs slot \(index) of \(slots)") }
      return try b.u16(4 + 2 * index)
    }
    while slot < slots {
      let offset = try b.u8(4 + 2 * slot)
      let opByte = try b.u8(5 + 2 * slot)
      let op = opByte & 0xF
      let info = opByte >> 4
      let operation: UnwindOperation
      var used = 1
      switch op {
      case 0: operation = .pushNonvolatile(register: info)
      case 1:
        if info == 0 {
          operation = .allocateLarge(size: UInt32(try slotValue(slot + 1)) * 8)
          used = 2
        } else if info == 1 {
          let low = UInt32(try slotValue(slot + 1))
          let high = UInt32(try slotValue(slot + 2))
          operation = .allocateLarge(size: low | high << 16)
          used = 3
        } else {
          throw b.corrupt(5 + 2 * slot, "UWOP_ALLOC_LARGE with OpInfo \(info) (0 or 1 expected)")
        }
      case 2: operation = .allocateSmall(size: UInt32(info) * 8 + 8)
      case 3: operation = .setFramePointer
      case 4:
        operation = .saveNonvolatile(register: info, offset: UInt32(try slotValue(slot + 1)) * 8, far: false)
        used = 2
      case 5:
        let value = UInt32(try slotValue(slot + 1)) | UInt32(try slotValue(slot + 2)) << 16
        operation = .saveNonvolatile(register: info, offset: value, far: true)
        used = 3
      case 6 where version == 2: operation = .epilog(codeOffset: offset, info: info)
      case 8:
        operation = .saveXMM128(register: info, offset: UInt32(try slotValue(slot + 1)) * 16, far: false)
        used = 2
      case 9:
        let value = UInt32(try slotValue(slot + 1)) | UInt32(try slotValue(slot + 2)) << 16
        operation = .saveXMM128(register: info, offset: value, far: true)
        used = 3
      case 10:
        guard info <= 1 else { throw b.corrupt(5 + 2 * slot, "UWOP_PUSH_MACHFRAME with OpInfo \(info)") }
        operation = .pushMachineFrame(errorCode: info == 1)
      default:
        throw b.corrupt(5 + 2 * slot, "unwind operation \(op) (version \(version))")
      }
      codes.append(UnwindCode(codeOffset: offset, operation: operation))
      slot += used  // ≤ slots + 2: small
    }
    let trailer = 4 + 2 * ((slots + 1) & ~1)
    var handler: UInt32?
    var chained: RuntimeFunction?
    if flags & flagChainInfo != 0 {
      chained = RuntimeFunction(
        beginAddress: try b.u32(trailer), endAddress: try b.u32(trailer + 4), unwindInfoAddress: try b.u32(trailer + 8))
    } else if flags & (flagExceptionHandler | flagTerminationHandler) != 0 {
      handler = try b.u32(trailer)
    }
    return UnwindInfo(
      version: version, flags: flags, sizeOfProlog: prolog, countOfCodes: count, frameRegister: frame & 0xF,
      frameOffset: UInt32(frame >> 4) * 16, codes: codes, handler: handler, chained: chained)
  }
}

extension PEImage {
  /// The UNWIND_INFO at `rva` (read up to its largest possible size, less where the image ends).
  public func unwindInfo(at rva: UInt32) throws(PEError) -> UnwindInfo {
    let header = try read(rva: rva, count: 4)
    let codes = Int(header.count == 4 ? header[2] : 0)
    let needed = 4 + 2 * ((codes + 1) & ~1) + 12
    // The 12-byte trailer exists only with CHAININFO; near the image's end read without it.
    let bytes: [UInt8]
    do { bytes = try read(rva: rva, count: needed) } catch { bytes = try read(rva: rva, count: needed - 12) }
    return try UnwindInfo.parse(bytes, rva: rva, source: sourceName)
  }
}
