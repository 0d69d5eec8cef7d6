// Arrays of EX_FAST_REF slots, each referencing an EX_CALLBACK_ROUTINE_BLOCK: process-, thread- and
// image-load notify routines (PsSetCreate…NotifyRoutine*) and DbgkLkmdRegisterCallback.
// EX_FAST_REF keeps a reference count in the low 4 bits on x64, 3 bits on x86 (public PDB: _EX_FAST_REF.RefCnt).

import BinaryReading
import Symbols
import WindowsKernel

/// One EX_FAST_REF array family.
public struct NotifyRoutineArrayFamily: CallbackFamily {
  public let id: String
  public let symbol: String
  /// Slot count for a build.
  public let slots: @Sendable (Int) -> Int
  public var ids: [String] { [id] }

  public init(id: String, symbol: String, slots: @escaping @Sendable (Int) -> Int) {
    self.id = id
    self.symbol = symbol
    self.slots = slots
  }

  /// The four families of this shape. Image-notify had 8 slots before Windows 8.1 (build 9600), 64 after;
  /// process and thread notify have 64 since Windows 7 (8 on XP/2003); DbgkLmdCallbacks has 8.
  public static let all: [NotifyRoutineArrayFamily] = [
    NotifyRoutineArrayFamily(id: "process-notify", symbol: "PspCreateProcessNotifyRoutine") {
      $0 != 0 && $0 < 6000 ? 8 : 64
    },
    NotifyRoutineArrayFamily(id: "thread-notify", symbol: "PspCreateThreadNotifyRoutine") {
      $0 != 0 && $0 < 6000 ? 8 : 64
    },
    NotifyRoutineArrayFamily(id: "image-notify", symbol: "PspLoadImageNotifyRoutine") { $0 != 0 && $0 < 9600 ? 8 : 64 },
    NotifyRoutineArrayFamily(id: "dbgk-lkmd", symbol: "DbgkLmdCallbacks") { _ in 8 },
  ]

  public func collect(_ context: CallbackContext) -> [FamilyResult] {
    let head: (address: UInt64, provenance: Provenance)
    do { head = try context.head(symbol) } catch {
      return [FamilyResult(family: id, notLocated: error.description)]
    }
    let count = slots(context.build)
    let block = context.layouts.callbackRoutineBlock
    let refMask: UInt64 = context.pointerSize == 8 ? 0xf : 0x7
    var result = FamilyResult(family: id)
    let table: [UInt8]
    do { table = try context.kernel.read(head.address, count: count * Int(context.pointerSize)) } catch {
      result.warnings.append("\(symbol) at \(Hex.format(head.address)): \(error)")
      return [result]
    }
    let cursor = ByteCursor(table, origin: head.address)
    for slot in 0..<count {
      let offset = slot * Int(context.pointerSize)
      guard
        let value = context.pointerSize == 8
          ? try? cursor.getLE(UInt64.self, at: offset) : (try? cursor.getLE(UInt32.self, at: offset)).map(UInt64.init)
      else { continue }
      guard value != 0 else { continue }
      let address = value & ~refMask
      guard let routine = context.pointer(address &+ block["Function"]) else {
        result.warnings.append("\(id) slot \(slot): callback block at \(Hex.format(address)) unreadable")
        continue
      }
      let blockContext = context.pointer(address &+ block["Context"]) ?? 0
      var details: [(String, DetailValue)] = [("context", .address(blockContext))]
      if id == "process-notify" {
        // PspSetCreateProcessNotifyRoutine stores its flags in the block's Context: 2 = Ex, 6 = Ex2.
        let flavour = blockContext & 0x4 != 0 ? "Ex2" : (blockContext & 0x2 != 0 ? "Ex" : "legacy")
        details.append(("flavour", .string(flavour)))
      }
      guard routine != 0 else {
        // The kernel empties the slot before it frees the block: a live slot's block has a routine.
        result.warnings.append(
          "\(id) slot \(slot): EX_FAST_REF \(Hex.format(value)) references a block at \(Hex.format(address)) "
            + "whose Function is null (freed or zeroed memory)")
        continue
      }
      result.entries.append(
        CallbackEntry(
          family: id, head: head.address, headSymbol: symbol, index: slot, rawValue: value, routine: routine,
          object: address, details: details, provenance: head.provenance))
    }
    return [result]
  }
}
