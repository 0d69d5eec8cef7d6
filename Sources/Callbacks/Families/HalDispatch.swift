// The hal-table family: HalDispatchTable, the HAL_DISPATCH the kernel calls through for HAL
// services. Overwriting an entry (HalQuerySystemInformation, slot 1, the classic one) runs code
// with kernel privilege on the next NtQueryIntervalProfile: exploit kits and rootkits both use it.
// Layout: ntddk.h HAL_DISPATCH, a ULONG Version and then routine pointers; every routine belongs
// in ntoskrnl or the HAL. HalPrivateDispatchTable is undocumented and its length changes with
// every build: not read.

import BinaryReading
import Symbols
import WindowsKernel

extension FamilyDescriptor {
  /// HalDispatchTable's routines.
  public static let halDispatch = FamilyDescriptor(
    id: "hal-table", title: "HAL dispatch table (HalDispatchTable)",
    registration: "filled by the kernel and the HAL at boot (hooks overwrite entries)",
    heads: [FamilyHead("HalDispatchTable", .exported)],
    listing: .deviations, reader: HalDispatchReader())
}

/// Reads HalDispatchTable.
public struct HalDispatchReader: CallbackFamily {
  public var ids: [String] { ["hal-table"] }
  public init() {}

  /// HAL_DISPATCH's routine members after Version, in ntddk.h order.
  public static let members = [
    "HalQuerySystemInformation", "HalSetSystemInformation", "HalQueryBusSlots", "Spare1", "HalExamineMBR",
    "HalIoReadPartitionTable", "HalIoSetPartitionInformation", "HalIoWritePartitionTable",
    "HalReferenceHandlerForBus", "HalReferenceBusHandler", "HalDereferenceBusHandler", "HalInitPnpDriver",
    "HalInitPowerManagement", "HalGetDmaAdapter", "HalGetInterruptTranslator", "HalStartMirroring",
    "HalEndMirroring", "HalMirrorPhysicalMemory", "HalEndOfBoot", "HalMirrorVerify", "HalGetCachedAcpiTable",
    "HalSetPciErrorHandlerCallback",
  ]

  /// Image names the routines belong in: the kernel and the HAL variants.
  public static let expectedOwners =
    IrpDispatchReader.kernelImageNames + ["hal.dll", "halmacpi.dll", "halacpi.dll", "halaacpi.dll", "halapic.dll"]

  public func collect(_ c: CallbackContext) -> [FamilyResult] {
    let id = "hal-table"
    let head: (address: UInt64, provenance: Provenance)
    let version: UInt64
    do throws(WindowsKernelError) {
      head = try c.head("HalDispatchTable")
      version = try c.kernel.readUnsigned(head.address, width: 4)
    } catch {
      return [FamilyResult(family: id, notLocated: error.description)]
    }
    // HAL_DISPATCH_VERSION is 3 (Windows 7) to 5; 0 means the HAL never filled it in.
    guard (1...16).contains(version) else {
      return [
        FamilyResult(
          family: id,
          notLocated:
            "HalDispatchTable at \(Hex.format(head.address)): Version \(version) is not a HAL_DISPATCH version")
      ]
    }
    var result = FamilyResult(family: id)
    for (index, member) in Self.members.enumerated() {
      let slot = head.address &+ c.pointerSize &* UInt64(index + 1)  // Version is padded to a pointer
      guard let routine = c.pointer(slot) else {
        result.warnings.append("hal-table: HAL_DISPATCH.\(member) at \(Hex.format(slot)) unreadable")
        continue
      }
      guard routine != 0 else { continue }
      var entry = CallbackEntry(
        family: id, head: head.address, headSymbol: "HalDispatchTable", index: index + 1, routine: routine,
        details: [("slot", .string(member)), ("version", .int(Int64(version)))], provenance: head.provenance)
      entry.expectedOwners = Self.expectedOwners
      result.entries.append(entry)
    }
    return [result]
  }
}
