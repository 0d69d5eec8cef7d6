// Arrays of EX_FAST_REF slots, each referencing an EX_CALLBACK_ROUTINE_BLOCK: process-, thread- and
// image-load notify routines (PsSetCreate…NotifyRoutine*) and DbgkLkmdRegisterCallback.
// EX_FAST_REF keeps a reference count in the low 4 bits on x64, 3 bits on x86 (public PDB: _EX_FAST_REF.RefCnt).

import AddressSpace
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

  /// Process and thread notify slots: 64 since Vista (8 before, build 6000); 0 = unknown build.
  public static let processAndThreadSlots: @Sendable (Int) -> Int = { $0 != 0 && $0 < 6000 ? 8 : 64 }
  /// Image-notify slots: 8 before Windows 8.1 (build 9600), 64 after.
  public static let imageSlots: @Sendable (Int) -> Int = { $0 != 0 && $0 < 9600 ? 8 : 64 }

  public func collect(_ context: CallbackContext) -> [FamilyResult] {
    let head: (address: UInt64, provenance: Provenance)
    do { head = try context.head(symbol) } catch {
      return [FamilyResult(family: id, notLocated: error.description)]
    }
    let count = slots(context.build)
    let block = context.layouts.callbackRoutineBlock
    var result = FamilyResult(family: id)
    let slots: [FastRefSlot]
    do { slots = try context.kernel.space.fastRefSlots(at: head.address, count: count) } catch {
      result.warnings.append("\(symbol) at \(Hex.format(head.address)): \(error)")
      return [result]
    }
    for entry in slots where entry.value != 0 {
      let (slot, value, address) = (entry.index, entry.value, entry.object)
      let functionOffset: UInt64
      do { functionOffset = try block["Function"] } catch {
        return [FamilyResult(family: id, notLocated: error.description)]
      }
      guard let routine = context.pointer(address &+ functionOffset) else {
        result.warnings.append("\(id) slot \(slot): callback block at \(Hex.format(address)) unreadable")
        continue
      }
      var f = context.fields(block, at: address)
      let blockContext = f.pointer("Context")
      result.warnings += f.warnings.map { "\(id) slot \(slot): \($0)" }
      var details: [(String, DetailValue)] = [("context", .address(orNull: blockContext))]
      if id == "process-notify", let blockContext {
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
