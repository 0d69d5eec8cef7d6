// The idt family: the 256 interrupt gates of every processor's IDT. A rootkit that hooks a gate
// (a page fault, a system-call or breakpoint vector, a device interrupt) runs before the kernel on
// every such interrupt. The KPCR of a processor sits at KiProcessorBlock[n] − KPCR.Prcb; its IdtBase
// (x64) or IDT (x86) points to the table. Gates have the processor's architectural format (Intel
// SDM vol. 3, "IDT Descriptors"): x64 16 bytes, offset in bytes 0–1, 6–7 and 8–11, IST in byte 4,
// type and present bit in byte 5; x86 8 bytes, offset in bytes 0–1 and 6–7. Every handler belongs
// in ntoskrnl or the HAL (connected device interrupts enter through the kernel's KiIsrThunk too).

import BinaryReading
import Symbols
import WindowsKernel

extension FamilyDescriptor {
  /// Present gates of every processor's IDT.
  public static let interruptDescriptorTable = FamilyDescriptor(
    id: "idt", title: "Interrupt descriptor table gates (every processor)",
    registration: "set up by the kernel at boot (KeConnectInterrupt connects devices behind the kernel's stubs)",
    heads: [FamilyHead("KiProcessorBlock", .code(exports: ["KeQueryPrcbAddress"], shape: .table))],
    symbols: ["KeNumberProcessors"],
    structs: ["_KPCR", "_KPRCB"],
    listing: .deviations, reader: InterruptDescriptorTableReader())
}

/// Reads each processor's IDT.
public struct InterruptDescriptorTableReader: CallbackFamily {
  public var ids: [String] { ["idt"] }
  public init() {}

  static let vectors = 256
  /// Gate types by the low 4 bits of the type byte (64-bit and 32-bit interrupt and trap gates, task gate).
  static let gateTypes: [UInt8: String] = [
    0x5: "task", 0x6: "interrupt16", 0x7: "trap16", 0xE: "interrupt", 0xF: "trap",
  ]

  public func collect(_ c: CallbackContext) -> [FamilyResult] {
    let id = "idt"
    let head: (address: UInt64, provenance: Provenance)
    let prcbs: [UInt64]
    let prcbInKpcr, idtField: UInt64
    do throws(WindowsKernelError) {
      head = try c.head("KiProcessorBlock")
      prcbInKpcr = try c.offset("_KPCR", "Prcb")
      idtField = c.pointerSize == 8 ? try c.offset("_KPCR", "IdtBase") : try c.offset("_KPCR", "IDT")
      prcbs = try ProcessorBlock.prcbs(c, block: head.address)
    } catch {
      return [FamilyResult(family: id, notLocated: error.description)]
    }
    var result = FamilyResult(family: id)
    let gateSize = c.pointerSize == 8 ? 16 : 8
    for (processor, prcb) in prcbs.enumerated() {
      let kpcr = prcb &- prcbInKpcr
      let idt: UInt64
      let bytes: [UInt8]
      do throws(WindowsKernelError) {
        idt = try c.kernel.readPointer(kpcr &+ idtField)
        guard c.kernel.isKernelAddress(idt) else {
          throw .implausible(
            address: kpcr &+ idtField, structure: "_KPCR.IdtBase", detail: "\(Hex.format(idt)) is not a kernel address")
        }
        do { bytes = try c.kernel.space.read(idt, count: Self.vectors * gateSize) } catch {
          throw .unreadableField(
            structName: "_KPCR", field: "IdtBase[0..<256]", address: idt, reason: "\(error)")
        }
      } catch {
        // One processor's table unreadable: the others are still read.
        if prcbs.count == 1 { return [FamilyResult(family: id, notLocated: "processor 0: \(error)")] }
        result.warnings.append("idt: processor \(processor): \(error)")
        continue
      }
      for vector in 0..<Self.vectors {
        let gate = Array(bytes[vector * gateSize..<(vector + 1) * gateSize])
        guard let decoded = Self.decode(gate, x64: c.pointerSize == 8) else { continue }
        var entry = CallbackEntry(
          family: id, head: idt, headSymbol: "KiProcessorBlock[\(processor)].IdtBase", index: vector,
          routine: decoded.handler,
          details: [
            ("processor", .int(Int64(processor))), ("gate", .string(decoded.type)), ("dpl", .int(Int64(decoded.dpl))),
            ("ist", .int(Int64(decoded.ist))), ("selector", .int(Int64(decoded.selector))),
          ],
          provenance: head.provenance)
        entry.expectedOwners = HalDispatchReader.expectedOwners
        result.entries.append(entry)
      }
    }
    return [result]
  }

  /// A present gate's handler and attributes; nil for a gate that is not present or has no handler.
  public static func decode(_ gate: [UInt8], x64: Bool) -> (
    handler: UInt64, type: String, dpl: Int, ist: Int, selector: Int
  )? {
    guard gate.count >= (x64 ? 16 : 8) else { return nil }
    let attributes = gate[5]
    guard attributes & 0x80 != 0 else { return nil }  // P
    func u16(_ at: Int) -> UInt64 { UInt64(gate[at]) | UInt64(gate[at + 1]) << 8 }
    var handler = u16(0) | u16(6) << 16
    if x64 { handler |= (u16(8) | u16(10) << 16) << 32 }
    guard handler != 0, attributes & 0xF != 0x5 else { return nil }  // a task gate has no handler
    let type = gateTypes[attributes & 0xF] ?? "type \(attributes & 0xF)"
    return (handler, type, Int(attributes >> 5) & 3, x64 ? Int(gate[4] & 7) : 0, Int(u16(2)))
  }
}
