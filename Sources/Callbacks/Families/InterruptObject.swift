// The interrupt-object family: the device interrupts connected on every processor
// (IoConnectInterrupt(Ex) → KeConnectInterrupt). Each vector's IDT gate enters the kernel's
// KiIsrThunk, which finds the KINTERRUPT in KPRCB.InterruptObject[vector] and calls its
// DispatchAddress (the kernel's KiInterruptDispatch* / KiChainedDispatch), which calls the driver's
// ServiceRoutine (or MessageServiceRoutine for MSI), walking InterruptListEntry for shared vectors.
// A rootkit that swaps ServiceRoutine or DispatchAddress runs on every interrupt of that device
// without touching the IDT. The ISR belongs to the driver that connected it; the dispatcher to
// ntoskrnl. Layouts are the public PDB's _KINTERRUPT and _KPRCB.InterruptObject (x64 Windows 8 on).

import BinaryReading
import Symbols
import WindowsKernel

extension FamilyDescriptor {
  /// KPRCB.InterruptObject of every processor → KINTERRUPT chains.
  public static let interruptObject = FamilyDescriptor(
    id: "interrupt-object", title: "Connected interrupt service routines (KINTERRUPT, every processor)",
    registration: "IoConnectInterrupt / IoConnectInterruptEx (KeConnectInterrupt)",
    heads: [FamilyHead("KiProcessorBlock", .code(exports: ["KeQueryPrcbAddress"], shape: .table))],
    symbols: ["KeNumberProcessors"],
    structs: ["_KPRCB", "_KINTERRUPT"],
    listing: .deviations, reader: InterruptObjectReader())
}

/// Reads the KINTERRUPT objects connected to every processor's vectors.
public struct InterruptObjectReader: CallbackFamily {
  public var ids: [String] { ["interrupt-object"] }
  public init() {}

  /// KOBJECTS.InterruptObject (WRK ke.h): the Type of every KINTERRUPT.
  static let interruptType: UInt64 = 22
  /// Objects read at most on one vector's shared chain.
  static let chainBound = 64

  struct Layout {
    let objects, type, list, service, messageService, context, dispatch, vector, irql: UInt64
    let count: Int
    init(_ c: CallbackContext) throws(WindowsKernelError) {
      objects = try c.offset("_KPRCB", "InterruptObject")
      guard case .array(_, let n)? = c.profile.field("_KPRCB", "InterruptObject")?.type, n > 0, n <= 256 else {
        throw .missingField(structName: "_KPRCB", field: "InterruptObject[] element count")
      }
      count = n
      type = try c.offset("_KINTERRUPT", "Type")
      list = try c.offset("_KINTERRUPT", "InterruptListEntry")
      service = try c.offset("_KINTERRUPT", "ServiceRoutine")
      messageService = try c.offset("_KINTERRUPT", "MessageServiceRoutine")
      context = try c.offset("_KINTERRUPT", "ServiceContext")
      dispatch = try c.offset("_KINTERRUPT", "DispatchAddress")
      vector = try c.offset("_KINTERRUPT", "Vector")
      irql = try c.offset("_KINTERRUPT", "Irql")
    }
  }

  public func collect(_ c: CallbackContext) -> [FamilyResult] {
    let id = "interrupt-object"
    let head: (address: UInt64, provenance: Provenance)
    let prcbs: [UInt64]
    let l: Layout
    do throws(WindowsKernelError) {
      head = try c.head("KiProcessorBlock")
      l = try Layout(c)
      prcbs = try ProcessorBlock.prcbs(c, block: head.address)
    } catch {
      return [FamilyResult(family: id, notLocated: error.description)]
    }
    var result = FamilyResult(family: id)
    for (processor, prcb) in prcbs.enumerated() {
      let table = prcb &+ l.objects
      let slots: [UInt64]
      do {
        slots = ByteCursor(try c.kernel.space.read(table, count: l.count &* Int(c.pointerSize))).words(
          width: Int(c.pointerSize))
      } catch {
        result.warnings.append(
          "interrupt-object: _KPRCB.InterruptObject of processor \(processor) at \(Hex.format(table)): \(error)")
        continue
      }
      for (vector, first) in slots.enumerated() where first != 0 {
        for object in chain(c, first: first, l, warnings: &result.warnings) {
          read(object, processor: processor, vector: vector, head: head, c, l, into: &result)
        }
      }
    }
    return [result]
  }

  /// The KINTERRUPT at `first` and the others sharing its vector (InterruptListEntry), each once.
  func chain(_ c: CallbackContext, first: UInt64, _ l: Layout, warnings: inout [String]) -> [UInt64] {
    let walk = c.list(first &+ l.list, what: "_KINTERRUPT.InterruptListEntry", bound: Self.chainBound)
    if let warning = walk.warning { warnings.append("interrupt-object: \(warning)") }
    // The list has no separate head: the first object's own link is one of its entries.
    return [first] + walk.entries.map { $0 &- l.list }.filter { $0 != first }
  }

  private func read(
    _ object: UInt64, processor: Int, vector: Int, head: (address: UInt64, provenance: Provenance),
    _ c: CallbackContext, _ l: Layout, into result: inout FamilyResult
  ) {
    var reads = FieldReads(c, profileStruct: "_KINTERRUPT", at: object)
    guard let type = reads.unsigned("Type", width: 2) else {
      result.warnings += reads.warnings.map { "interrupt-object: \($0)" }
      return
    }
    guard type == Self.interruptType else {
      result.warnings.append(
        "interrupt-object: processor \(processor) vector \(vector): \(Hex.format(object)) has Type \(type), not a KINTERRUPT"
      )
      return
    }
    let irql = reads.unsigned("Irql", width: 1)
    let context = reads.pointer("ServiceContext")
    let details: [(String, DetailValue)] = [
      ("processor", .int(Int64(processor))), ("vector", .int(Int64(vector))), ("irql", .int(orNull: irql)),
      ("serviceContext", .address(orNull: context)),
    ]
    for (member, role, expected) in [
      ("ServiceRoutine", "service", [String]()), ("MessageServiceRoutine", "messageService", []),
      ("DispatchAddress", "dispatch", IrpDispatchReader.kernelImageNames),
    ] {
      guard let routine = reads.pointer(member), routine != 0 else { continue }
      var entry = CallbackEntry(
        family: "interrupt-object", head: head.address, headSymbol: "KiProcessorBlock[\(processor)].InterruptObject",
        index: vector, routine: routine, object: object, details: details + [("routineKind", .string(role))],
        provenance: head.provenance)
      entry.expectedOwners = expected
      result.entries.append(entry)
    }
    result.warnings += reads.warnings.map { "interrupt-object: \($0)" }
  }
}
